"""The generic LightningModule that trains any process, parameterization, network and loss."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor, nn

from condiff.core.errors import CheckpointError
from condiff.core.logging.media import image_grid, log_image_grid, save_png
from condiff.core.losses import RegressionLoss, uniform_time
from condiff.core.parameterization import check_parameterization
from condiff.core.processes.base import GaussianProcess
from condiff.core.processes.constants import check_process_constants, process_constants
from condiff.core.sampling import ModelDenoiser, sample
from condiff.core.training.ema import ema_decay_at, ema_update_
from condiff.core.training.schedule import WarmupCosine

Batch = Mapping[str, Any]


def _to_plain(x: Any) -> Any:
    """Hydra's DictConfig/ListConfig -> dict/list, so nothing OmegaConf reaches a checkpoint."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf

        if isinstance(x, DictConfig | ListConfig):
            return OmegaConf.to_container(x, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf ships with hydra
        pass
    return x


def _step_seed(seed: int, step: int, rank: int) -> int:
    """A 63-bit seed for training step ``step`` on rank ``rank`` (splitmix64 of the three)."""
    z = (seed * 0x9E3779B97F4A7C15 + step * 0xBF58476D1CE4E5B9 + rank * 0x94D049BB133111EB) & (2**64 - 1)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
    return (z ^ (z >> 31)) >> 1


class DiffusionModule(L.LightningModule):
    """Train a denoiser ``network(x_t, t, **cond)`` on ``x_t = a x0 + b y + s eps``.

    A batch is a mapping with ``x0`` (data), optionally ``y`` (the condition the
    process drifts toward) and ``cond`` (keyword arguments passed to the network
    untouched). Classifier-free guidance training drops the condition of a random
    ``cond_drop_prob`` fraction of samples through the network's ``cond_drop`` argument.

    Args:
        network: the denoiser backbone.
        process: the diffusion process.
        parameterization: what the network predicts (``eps``, ``x0``, ...).
        loss: per-sample loss ``loss(process, parameterization, out, x0, eps, t, y) -> (B,)``.
        lr: peak AdamW learning rate.
        weight_decay: AdamW weight decay.
        betas: AdamW betas.
        warmup_steps: linear warm-up steps.
        total_steps: steps of the cosine decay (the trainer's ``max_steps`` when ``None``).
        min_lr_ratio: final learning rate as a fraction of ``lr``.
        ema_decay: EMA decay of the weights used for sampling (0 disables averaging).
        ema_warmup: optimizer steps before the EMA starts averaging.
        cond_drop_prob: probability of dropping the condition (classifier-free guidance).
        sampler: options of :func:`condiff.core.sampling.sample` used for validation samples
            (``steps``, ``method``, ``schedule``, ``guidance``, ...).
        evaluator: ``evaluator(samples, cond) -> {metric: value}`` run on validation samples.
        num_val_samples: samples drawn at each validation sampling.
        sample_every_n_epochs: validation epochs between two samplings (0: never).
        seed: seed of the validation noise and samples (so numbers compare across epochs).
    """

    def __init__(
        self,
        network: nn.Module,
        process: GaussianProcess,
        parameterization: str = "eps",
        loss: Callable[..., Tensor] | None = None,
        lr: float = 2e-4,
        weight_decay: float = 0.0,
        betas: tuple[float, float] | list[float] = (0.9, 0.999),
        warmup_steps: int = 100,
        total_steps: int | None = None,
        min_lr_ratio: float = 0.0,
        ema_decay: float = 0.999,
        ema_warmup: int = 0,
        cond_drop_prob: float = 0.0,
        sampler: Mapping[str, Any] | None = None,
        evaluator: Callable[[Tensor, Mapping[str, Any]], Mapping[str, float]] | None = None,
        num_val_samples: int = 100,
        sample_every_n_epochs: int = 1,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if not 0.0 <= cond_drop_prob < 1.0:
            raise ValueError(f"cond_drop_prob must be in [0, 1), got {cond_drop_prob}")
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}")
        self.network = network
        self.ema_network = copy.deepcopy(network).requires_grad_(False)
        self.process = process
        self.parameterization = check_parameterization(parameterization)
        self.loss_fn = loss if loss is not None else RegressionLoss()
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.betas = tuple(float(b) for b in betas)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = total_steps
        self.min_lr_ratio = float(min_lr_ratio)
        self.ema_decay = float(ema_decay)
        self.ema_warmup = int(ema_warmup)
        self.cond_drop_prob = float(cond_drop_prob)
        self.sampler_options = dict(_to_plain(sampler) or {"steps": 20})
        self.evaluator = evaluator
        self.num_val_samples = int(num_val_samples)
        self.sample_every_n_epochs = int(sample_every_n_epochs)
        self.seed = int(seed)

    # -- training ----------------------------------------------------------------
    @property
    def export_network(self) -> nn.Module:
        """The weights ``condiff-train`` exports: the EMA network."""
        return self.ema_network

    def forward(self, x: Tensor, t: Tensor, **cond: Any) -> Tensor:
        return self.network(x, t, **cond)

    def _loss(self, batch: Batch, generator: torch.Generator | None = None) -> Tensor:
        x0 = batch["x0"]
        y = batch.get("y")
        cond = dict(batch.get("cond") or {})
        b = x0.shape[0]
        t = uniform_time(b, self.process, x0.device, generator)
        noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        x_t, eps = self.process.marginal_sample(x0, t, y, noise=self.process.project(noise))
        if self.training and self.cond_drop_prob > 0:
            cond["cond_drop"] = torch.rand(b, device=x0.device) < self.cond_drop_prob
        out = self.network(x_t, t.to(x0.dtype), **cond)
        return self.loss_fn(self.process, self.parameterization, out, x0, eps, t, y).mean()

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        # Each step's randomness (t, noise, condition dropout, network dropout) is a pure function
        # of (seed, step, rank): a resumed run draws exactly what an uninterrupted one does, whatever
        # else (data loaders, validation, callbacks) consumed the global RNG in between.
        torch.manual_seed(_step_seed(self.seed, self.global_step, self.global_rank))
        loss = self._loss(batch)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"training loss is {loss.item()} at step {self.global_step} (batch {batch_idx}): "
                "lower the learning rate or check the data for NaN"
            )
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["x0"].shape[0])
        self.log("train/lr", self.trainer.optimizers[0].param_groups[0]["lr"], batch_size=batch["x0"].shape[0])
        return loss

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        # The EMA follows every optimizer step, before any callback (checkpointing) sees the batch end.
        super().optimizer_step(*args, **kwargs)
        ema_update_(self.ema_network, self.network, ema_decay_at(self.global_step, self.ema_decay, self.ema_warmup))

    def configure_optimizers(self) -> Any:
        total = self.total_steps or self.trainer.max_steps
        if total is None or total < 1:
            raise ValueError("DiffusionModule: set total_steps or trainer.max_steps for the cosine schedule")
        opt = torch.optim.AdamW(
            self.network.parameters(), lr=self.lr, weight_decay=self.weight_decay, betas=(self.betas[0], self.betas[1])
        )
        sched = torch.optim.lr_scheduler.LambdaLR(opt, WarmupCosine(self.warmup_steps, total, self.min_lr_ratio))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    # -- validation ----------------------------------------------------------------
    def validation_step(self, batch: Batch, batch_idx: int) -> Tensor:
        g = torch.Generator(device=batch["x0"].device).manual_seed(self.seed + batch_idx)
        loss = self._loss(batch, generator=g)
        self.log("val/loss", loss, prog_bar=True, batch_size=batch["x0"].shape[0], sync_dist=True)
        return loss

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking or self.sample_every_n_epochs <= 0:
            return
        if (self.current_epoch + 1) % self.sample_every_n_epochs and not self._is_last_epoch():
            return
        dm = getattr(self.trainer, "datamodule", None)
        if dm is None or not hasattr(dm, "sampling_batches"):
            return
        samples, cond = self.generate(dm.sampling_batches(self.num_val_samples, self.num_val_samples))
        if self.evaluator is not None:
            metrics = self.evaluator(samples, cond)
            self.log_dict({f"val/{k}": float(v) for k, v in metrics.items()}, sync_dist=True)
        if self.trainer.is_global_zero and samples.ndim == 4 and samples.shape[1] in (1, 3):
            grid = image_grid(samples[: min(100, len(samples))], nrow=10, upscale=4 if samples.shape[-1] <= 16 else 1)
            out_dir = Path(self.trainer.default_root_dir) / "samples"
            save_png(grid, out_dir / f"step{self.global_step:08d}.png")
            for logger in self.loggers:
                log_image_grid(logger, "val/samples", grid, self.global_step, caption=f"step {self.global_step}")

    def _is_last_epoch(self) -> bool:
        t = self.trainer
        return bool(t.max_epochs and t.max_epochs > 0 and self.current_epoch + 1 >= t.max_epochs)

    @torch.no_grad()
    def generate(
        self,
        batches: Iterable[Batch],
        use_ema: bool = True,
        seed: int | None = None,
        **options: Any,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Sample one output per condition in ``batches`` (dicts with ``cond``, ``y`` and ``shape`` or ``x0``).

        Returns the samples and the concatenated conditions, plus ``reference`` (ground truth,
        when the batches carry it) and ``y``: what the task's evaluator receives. Sampler options
        default to the module's ``sampler`` settings; ``seed`` makes the result
        reproducible without touching the global RNG.
        """
        net = self.ema_network if use_ema else self.network
        was_training = net.training
        net.eval()
        opts = {**self.sampler_options, **options}
        guidance = float(opts.pop("guidance", 1.0))
        g = torch.Generator(device=self.device).manual_seed(self.seed if seed is None else seed)
        outs: list[Tensor] = []
        conds: dict[str, list[Tensor]] = {}
        for batch in batches:
            cond = {k: v.to(self.device) if isinstance(v, Tensor) else v for k, v in (batch.get("cond") or {}).items()}
            y = batch.get("y")
            y = y.to(self.device) if y is not None else None
            shape = tuple(batch["shape"]) if "shape" in batch else tuple(batch["x0"].shape)
            den = ModelDenoiser(net, self.process, self.parameterization, y=y, cond=cond, guidance=guidance)
            res = sample(den, self.process, y=y, shape=shape, generator=g, device=self.device, **opts)
            outs.append(res.x.cpu())
            for k, v in cond.items():
                if isinstance(v, Tensor):
                    conds.setdefault(k, []).append(v.cpu())
            # What evaluators compare against: the ground truth and the input the process drifts to.
            for k in ("reference", "y"):
                if isinstance(batch.get(k), Tensor):
                    conds.setdefault(k, []).append(batch[k].cpu())
        net.train(was_training)
        return torch.cat(outs), {k: torch.cat(v) for k, v in conds.items()}

    # -- checkpoints ---------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["condiff_process"] = process_constants(self.process)
        np_state: tuple[Any, ...] = tuple(np.random.get_state(legacy=True))  # noqa: NPY002 (the global state must resume)
        checkpoint["condiff_rng"] = {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": [
                str(np_state[0]),
                torch.from_numpy(np_state[1].astype(np.int64)),
                int(np_state[2]),
                int(np_state[3]),
                float(np_state[4]),
            ],
            "python": random.getstate(),
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        path = getattr(self.trainer, "ckpt_path", None) if self._trainer is not None else None
        keys = checkpoint.get("state_dict", {}).keys()
        if not any(k.startswith("ema_network.") for k in keys):
            raise CheckpointError(
                f"{path or 'checkpoint'}: no EMA weights (ema_network.*) found; cannot resume exactly"
            )
        if "condiff_process" in checkpoint:
            check_process_constants(checkpoint["condiff_process"], self.process, str(path or "checkpoint"))
        rng = checkpoint.get("condiff_rng")
        if rng is None:
            raise CheckpointError(
                f"{path or 'checkpoint'}: no RNG state (condiff_rng); not a condiff training checkpoint"
            )
        torch.set_rng_state(rng["torch"])
        if rng["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        n = rng["numpy"]
        np.random.set_state(  # noqa: NPY002
            (n[0], n[1].numpy().astype(np.uint32), n[2], n[3], n[4])
        )
        py = rng["python"]
        random.setstate((py[0], tuple(py[1]), py[2]))
