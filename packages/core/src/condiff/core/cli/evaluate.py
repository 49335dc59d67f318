"""``condiff-evaluate``: score a samples file with its task's evaluator, or a folder of generated files against a
folder of references with the task's folder evaluator; log metrics and media."""

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


def evaluate_folders(cfg: DictConfig) -> dict[str, Any]:
    """Metrics of the files of ``cfg.generated_dir`` against ``cfg.gt_dir`` (same names) by the folder evaluator
    of the task exported in ``cfg.export_dir``; per-file rows in ``<generated_dir>/metrics.csv``."""
    for key in ("export_dir", "gt_dir"):
        if not cfg.get(key):
            raise DataValidationError(f"config key '{key}' is missing: generated_dir= needs export_dir= and gt_dir=")
    ecfg = load_exported_config(cfg.export_dir)
    if OmegaConf.select(ecfg, "task.folder_evaluator") is None:
        raise CheckpointError(f"{cfg.export_dir}: the task has no folder evaluator (task.folder_evaluator)")
    evaluate = instantiate_node(ecfg, "task.folder_evaluator")
    generated = Path(cfg.generated_dir).resolve()
    out_csv = generated / "metrics.csv"
    metrics = {k: float(v) for k, v in evaluate(cfg.gt_dir, generated, cfg.get("input_dir"), out_csv).items()}
    out = generated / "metrics.json"
    record = {"generated_dir": str(generated), "gt_dir": str(cfg.gt_dir), "metrics": metrics}
    atomic_write_bytes(json.dumps(record, indent=2).encode(), out)
    _log(cfg, metrics, None)
    print(f"metrics:         {out} (per file: {out_csv})", flush=True)
    for k, v in metrics.items():
        print(f"{k:16s} {v:.4f}", flush=True)
    return metrics


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """``samples=`` (a samples file) or ``generated_dir=`` (a folder pair), exactly one."""
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    if bool(cfg.get("samples")) == bool(cfg.get("generated_dir")):
        raise DataValidationError("give exactly one of samples=<samples.safetensors> or generated_dir=<folder>")
    return evaluate_samples(cfg) if cfg.get("samples") else evaluate_folders(cfg)


def _log(cfg: DictConfig, metrics: dict[str, float], samples: torch.Tensor | None) -> None:
    for name in cfg.get("logger") or {}:
        lg = instantiate_node(cfg, f"logger.{name}")
        lg.log_metrics({f"eval/{k}": v for k, v in metrics.items()}, step=0)
        if samples is not None and samples.ndim == 4 and samples.shape[1] in (1, 3):
            log_image_grid(
                lg, "eval/samples", image_grid(samples[:100], nrow=10, upscale=4 if samples.shape[-1] <= 16 else 1), 0
            )
        lg.finalize("success")
        if type(lg).__name__ == "WandbLogger":
            print(f"wandb (offline): {lg.experiment.dir}", flush=True)


def evaluate_samples(cfg: DictConfig) -> dict[str, Any]:
    """Metrics of ``cfg.samples`` by the evaluator of the export that produced it."""
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
    _log(cfg, metrics, samples)
    print(f"metrics:         {out}", flush=True)
    for k, v in metrics.items():
        print(f"{k:16s} {v:.4f}", flush=True)
    return metrics


@hydra.main(version_base="1.3", config_path=None, config_name="evaluate")
def _main(cfg: DictConfig) -> None:
    run_reporting_errors(evaluate, cfg)


def main() -> None:
    _main()


if __name__ == "__main__":
    main()
