"""``condiff-evaluate``: score a samples file with its task's evaluator; log metrics and media."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hydra
import torch
from omegaconf import DictConfig, OmegaConf
from safetensors import SafetensorError, safe_open

from condiff.core.checkpoint import atomic_write_bytes
from condiff.core.cli.errors import run_reporting_errors
from condiff.core.config import instantiate_node
from condiff.core.errors import CheckpointError, DataValidationError
from condiff.core.export import load_exported_config
from condiff.core.logging.media import image_grid, log_image_grid


def read_samples(path: str | Path) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, str]]:
    """Read a samples file written by ``condiff-sample``: samples, conditions and metadata."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: samples file not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
    except (SafetensorError, OSError, ValueError) as e:
        raise DataValidationError(f"{path}: not a readable safetensors samples file ({e})") from e
    if "samples" not in tensors:
        raise DataValidationError(f"{path}: no 'samples' tensor (found {sorted(tensors)})")
    cond = {k[len("cond.") :]: v for k, v in tensors.items() if k.startswith("cond.")}
    return tensors["samples"], cond, meta


def evaluate_samples(cfg: DictConfig) -> dict[str, Any]:
    """Metrics of ``cfg.samples`` by the evaluator of the export that produced it."""
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    path = Path(cfg.samples).resolve()
    samples, cond, meta = read_samples(path)
    if "export_dir" not in meta:
        raise DataValidationError(f"{path}: metadata has no 'export_dir'; was it written by condiff-sample?")
    ecfg = load_exported_config(meta["export_dir"])
    if OmegaConf.select(ecfg, "task.evaluator") is None:
        raise CheckpointError(f"{meta['export_dir']}: the task has no evaluator")
    evaluator = instantiate_node(ecfg, "task.evaluator")
    metrics = {k: float(v) for k, v in evaluator(samples, cond).items()}
    metrics["nfe"] = float(meta.get("nfe", "nan"))
    out = path.with_name("metrics.json")
    atomic_write_bytes(
        json.dumps(
            {"samples": str(path), "sampler": json.loads(meta.get("sampler", "{}")), "metrics": metrics}, indent=2
        ).encode(),
        out,
    )
    for name in cfg.get("logger") or {}:
        lg = instantiate_node(cfg, f"logger.{name}")
        lg.log_metrics({f"eval/{k}": v for k, v in metrics.items()}, step=0)
        if samples.ndim == 4 and samples.shape[1] in (1, 3):
            log_image_grid(
                lg, "eval/samples", image_grid(samples[:100], nrow=10, upscale=4 if samples.shape[-1] <= 16 else 1), 0
            )
        lg.finalize("success")
        if type(lg).__name__ == "WandbLogger":
            print(f"wandb (offline): {lg.experiment.dir}", flush=True)
    print(f"metrics:         {out}", flush=True)
    for k, v in metrics.items():
        print(f"{k:16s} {v:.4f}", flush=True)
    return metrics


@hydra.main(version_base="1.3", config_path=None, config_name="evaluate")
def _main(cfg: DictConfig) -> None:
    run_reporting_errors(evaluate_samples, cfg)


def main() -> None:
    _main()


if __name__ == "__main__":
    main()
