"""Export trained weights as safetensors plus the config needed to rebuild the model for sampling."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from condiff.core.checkpoint import atomic_write_bytes, publish
from condiff.core.errors import CheckpointError
from condiff.core.processes.constants import process_constants

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.yaml"
PROCESS_KEY = "condiff_process"


def export_model(
    network: torch.nn.Module,
    cfg: DictConfig | dict[str, Any],
    out_dir: str | os.PathLike[str],
    process: Any = None,
) -> Path:
    """Write ``out_dir/model.safetensors`` (the given, usually EMA, weights) and ``out_dir/config.yaml``.

    ``process``: the training process, whose constants go into the weights' metadata
    (``condiff_process``) so that sampling can refuse a config that disagrees with them.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    tmp = out / f".{WEIGHTS_FILE}.tmp{os.getpid()}"
    meta = {"format": "pt", "producer": "condiff"}
    if process is not None:
        meta[PROCESS_KEY] = json.dumps(process_constants(process), sort_keys=True)
    save_file(tensors, str(tmp), metadata=meta)
    publish(tmp, out / WEIGHTS_FILE)
    yaml = OmegaConf.to_yaml(cfg if isinstance(cfg, DictConfig) else OmegaConf.create(cfg), resolve=True)
    atomic_write_bytes(yaml.encode(), out / CONFIG_FILE)
    return out


def exported_process_constants(export_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The training process's constants stored in ``model.safetensors``, or ``None`` for an older export."""
    path = Path(export_dir) / WEIGHTS_FILE
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"{path}: truncated or corrupt safetensors file ({e})") from e
    if PROCESS_KEY not in meta:
        return None
    try:
        value = json.loads(meta[PROCESS_KEY])
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: corrupt '{PROCESS_KEY}' metadata ({e})") from e
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: '{PROCESS_KEY}' metadata must be a mapping")
    return value


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
