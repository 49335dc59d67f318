"""``train(cfg)``: build everything a composed config names and fit it with Lightning."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from condiff.core.checkpoint import AtomicCheckpointIO
from condiff.core.config import instantiate_node, sampler_options, validate_train_config
from condiff.core.export import export_model
from condiff.core.training.module import DiffusionModule

log = logging.getLogger(__name__)

EXPORT_KEYS = ("task", "sde", "param", "sampler", "seed", "paths")
# A task with its own Lightning module (``task.module``) is not a Gaussian path: no sde/param to export.
OWN_MODULE_EXPORT_KEYS = ("task", "sampler", "seed", "paths")


def has_own_module(cfg: DictConfig) -> bool:
    """Does the task bring its own Lightning module (``task.module``, e.g. masked discrete diffusion)?"""
    return OmegaConf.select(cfg, "task.module") is not None


def build_module(cfg: DictConfig) -> L.LightningModule:
    """The Lightning module described by ``cfg``.

    The default is the core :class:`DiffusionModule` (``task.network``, ``sde``, ``param``, ``loss``,
    ``task.evaluator``, ``sampler``; ``task.module_class`` may name a subclass). A task whose model is not a
    Gaussian path (masked discrete diffusion, DRAKES fine-tuning, a reward regressor) gives the whole module as
    a Hydra node ``task.module`` instead; it must expose ``export_network``, the weights ``condiff-sample``
    loads into ``task.network``.
    """
    if has_own_module(cfg):
        return _own_module(cfg)
    network = instantiate_node(cfg, "task.network")
    if cfg.get("compile", False):
        network.compile()
    evaluator = instantiate_node(cfg, "task.evaluator") if OmegaConf.select(cfg, "task.evaluator") else None
    module_kwargs = OmegaConf.to_container(cfg.module, resolve=True)
    assert isinstance(module_kwargs, dict)
    # A task may name a DiffusionModule subclass (e.g. GDSS's tuple state); the default is the core module.
    cls = _module_class(OmegaConf.select(cfg, "task.module_class"))
    try:
        return cls(
            network=network,
            process=instantiate_node(cfg, "sde"),
            parameterization=cfg.param.name,
            loss=instantiate_node(cfg, "loss"),
            sampler=sampler_options(cfg),
            evaluator=evaluator,
            seed=cfg.seed,
            **{str(k): v for k, v in module_kwargs.items()},
        )
    except (TypeError, ValueError) as e:
        from condiff.core.errors import ConfigError

        raise ConfigError(f"config key 'module': {e}") from e


def _own_module(cfg: DictConfig) -> L.LightningModule:
    from condiff.core.errors import ConfigError

    if OmegaConf.select(cfg, "task.module_class") is not None:
        raise ConfigError("config keys 'task.module' and 'task.module_class' exclude each other: give one")
    module = instantiate_node(cfg, "task.module")
    if not isinstance(module, L.LightningModule):
        raise ConfigError(f"config key 'task.module' built a {type(module).__name__}, not a LightningModule")
    if not isinstance(getattr(module, "export_network", None), torch.nn.Module):
        raise ConfigError(
            f"config key 'task.module': {type(module).__name__} has no 'export_network' (the weights to export)"
        )
    return module


def _module_class(path: str | None) -> type[DiffusionModule]:
    if not path:
        return DiffusionModule
    from condiff.core.errors import ConfigError

    try:
        cls = get_class(path)
    except Exception as e:
        raise ConfigError(f"config key 'task.module_class': cannot import {path!r} ({e})") from e
    if not (isinstance(cls, type) and issubclass(cls, DiffusionModule)):
        raise ConfigError(f"config key 'task.module_class': {path!r} is not a DiffusionModule subclass")
    return cls


def build_trainer(cfg: DictConfig) -> L.Trainer:
    """``lightning.Trainer`` from ``cfg.trainer`` with the configured loggers and callbacks."""
    loggers = [instantiate_node(cfg, f"logger.{name}") for name in (cfg.get("logger") or {})]
    for lg in loggers:
        lg.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    callbacks = [instantiate_node(cfg, f"callbacks.{name}") for name in (cfg.get("callbacks") or {})]
    return instantiate_node(
        cfg, "trainer", logger=loggers or False, callbacks=callbacks, plugins=[AtomicCheckpointIO()], _convert_="all"
    )


def train(cfg: DictConfig) -> dict[str, Any]:
    """Train the model of ``cfg``; resume from ``checkpoints/last.ckpt`` if present; export weights.

    Returns the output folder, the export folder and the final metrics.
    """
    validate_train_config(cfg)
    if cfg.get("threads"):
        torch.set_num_threads(int(cfg.threads))
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    out_dir = Path(cfg.paths.output_dir)
    datamodule = instantiate_node(cfg, "task.datamodule")
    module = build_module(cfg)
    trainer = build_trainer(cfg)
    last = out_dir / "checkpoints" / "last.ckpt"
    ckpt_path = str(last) if cfg.get("resume", True) and last.is_file() else None
    if ckpt_path:
        log.info("resuming from %s", ckpt_path)
    trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    if getattr(module, "evaluator", None) is not None:
        trainer.validate(module, datamodule=datamodule, verbose=False)
        metrics.update({k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1})
    export_dir = out_dir / "export"
    if cfg.get("export", True) and trainer.is_global_zero:
        plain = OmegaConf.to_container(cfg, resolve=True)
        assert isinstance(plain, dict)
        keys = OWN_MODULE_EXPORT_KEYS if has_own_module(cfg) else EXPORT_KEYS
        export_model(
            module.export_network,  # type: ignore[arg-type]
            {k: plain[k] for k in keys if k in plain},
            export_dir,
            process=getattr(module, "process", None),
        )
    if trainer.is_global_zero:
        _report(out_dir, export_dir, metrics, trainer)
    return {"output_dir": out_dir, "export_dir": export_dir, "metrics": metrics, "trainer": trainer, "module": module}


def _report(out_dir: Path, export_dir: Path, metrics: dict[str, float], trainer: L.Trainer) -> None:
    lines = [f"run folder:      {out_dir}", f"exported model:  {export_dir}", f"sample grids:    {out_dir / 'samples'}"]
    for lg in trainer.loggers:
        if type(lg).__name__ == "WandbLogger":
            experiment = getattr(lg, "experiment", None)
            run_dir = Path(experiment.dir).parent if experiment is not None else out_dir / "wandb"
            lines.append(f"wandb run:       {run_dir}  (upload later with: wandb sync {run_dir})")
        elif getattr(lg, "log_dir", None):
            lines.append(f"{type(lg).__name__}: {lg.log_dir}")
    for k in sorted(metrics):
        if k.startswith("val/"):
            lines.append(f"{k:16s} {metrics[k]:.4f}")
    print("\n".join(lines), flush=True)
