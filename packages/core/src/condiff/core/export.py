"""Export trained weights as safetensors plus the config needed to rebuild the model for sampling."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from condiff.core.checkpoint import atomic_write_bytes, publish
from condiff.core.errors import CheckpointError

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.yaml"


def export_model(network: torch.nn.Module, cfg: DictConfig | dict[str, Any], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``out_dir/model.safetensors`` (the given, usually EMA, weights) and ``out_dir/config.yaml``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    tmp = out / f".{WEIGHTS_FILE}.tmp{os.getpid()}"
    save_file(tensors, str(tmp), metadata={"format": "pt", "producer": "condiff"})
    publish(tmp, out / WEIGHTS_FILE)
    yaml = OmegaConf.to_yaml(cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg), resolve=True)
    atomic_write_bytes(yaml.encode(), out / CONFIG_FILE)
    return out


def load_exported_config(export_dir: str | os.PathLike[str]) -> DictConfig:
    """Read ``config.yaml`` of an export folder, naming the file on failure."""
    path = Path(export_dir) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{path}: export config not found (is {export_dir} an export folder?)")
    try:
        cfg = OmegaConf.load(path)
    except Exception as e:
        raise CheckpointError(f"{path}: unreadable export config ({e})") from e
    if not isinstance(cfg, DictConfig):
        raise CheckpointError(f"{path}: export config must be a mapping")
    return cfg


def load_exported_weights(network: torch.nn.Module, export_dir: str | os.PathLike[str]) -> torch.nn.Module:
    """Load ``model.safetensors`` into ``network`` (strict), naming the file on any mismatch."""
    path = Path(export_dir) / WEIGHTS_FILE
    if not path.is_file():
        raise CheckpointError(f"{path}: exported weights not found")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: truncated or corrupt safetensors file ({e})") from e
    try:
        network.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not match the configured network: {e}") from e
    return network
