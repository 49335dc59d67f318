"""LightningModules of the helper models and the code that trains, saves and loads them."""

from __future__ import annotations

import abc
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from condiff.core.errors import CheckpointError
from condiff.rl.data.datamodule import TrajectoryDataModule
from condiff.rl.networks import CausalStateTransformer, InverseDynamics, PlanCritic


class _Supervised(L.LightningModule, abc.ABC):
    """AdamW on ``self.model`` minimising :meth:`loss` of a tuple batch (subclasses define the loss)."""

    def __init__(self, model: nn.Module, lr: float = 1e-3) -> None:
        super().__init__()
        self.model = model
        self.lr = lr

    @abc.abstractmethod
    def loss(self, batch: tuple[Tensor, ...]) -> Tensor:
        """Mean loss of one batch."""

    def training_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> Tensor:
        loss = self.loss(batch)
        self.log("train/loss", loss, batch_size=batch[0].shape[0])
        return loss

    def configure_optimizers(self) -> Any:
        return torch.optim.AdamW(self.model.parameters(), lr=self.lr)


class TransformerModule(_Supervised):
    """Gaussian negative log-likelihood of the next-state increments (teacher forcing)."""

    def loss(self, batch: tuple[Tensor, ...]) -> Tensor:
        states, returns, goal = batch[0], batch[1], (batch[2] if len(batch) > 2 else None)
        mean, log_std = self.model(states[:, :-1], returns, goal)
        target = states[:, 1:] - states[:, :-1]
        return (0.5 * ((target - mean) / log_std.exp()) ** 2 + log_std).mean()


class InverseDynamicsModule(_Supervised):
    """Mean squared error of the normalised action."""

    def loss(self, batch: tuple[Tensor, ...]) -> Tensor:
        s, s_next, a = batch
        return ((self.model(s, s_next) - a) ** 2).mean()


class CriticModule(_Supervised):
    """Mean squared error of the plan's return."""

    def loss(self, batch: tuple[Tensor, ...]) -> Tensor:
        plan, returns, goal = batch[0], batch[1], (batch[2] if len(batch) > 2 else None)
        return ((self.model(plan, goal) - returns[:, 0]) ** 2).mean()


@dataclass
class PlannerModels:
    """The three helper networks of a planner."""

    transformer: CausalStateTransformer
    inverse_dynamics: InverseDynamics
    critic: PlanCritic

    def items(self) -> list[tuple[str, nn.Module]]:
        return [("transformer", self.transformer), ("inverse_dynamics", self.inverse_dynamics), ("critic", self.critic)]


def helper_tensors(dm: TrajectoryDataModule, split: str = "train") -> dict[str, tuple[Tensor, ...]]:
    """Training tensors of each helper from the data module's windows and transitions (normalised)."""
    dm.prepare()
    w = dm.train_windows if split == "train" else dm.val_windows
    ds = dm.train_data if split == "train" else dm.val_data
    if w is None:
        raise ValueError(f"helper_tensors: the data module has no {split!r} split")
    states = torch.from_numpy(dm.norm(w.states))
    returns = torch.from_numpy(w.returns)[:, None]
    cond: tuple[Tensor, ...] = (states, returns)
    if w.goals is not None:
        cond = (*cond, torch.from_numpy(dm.normalize_goal(w.goals)))
    ends = ds.terminals | ds.timeouts
    keep = np.nonzero(~ends[:-1])[0]
    obs = dm.norm(ds.observations)
    transitions = (
        torch.from_numpy(obs[keep]),
        torch.from_numpy(obs[keep + 1]),
        torch.from_numpy(ds.actions[keep] / dm.action_scale),
    )
    return {"transformer": cond, "critic": cond, "inverse_dynamics": transitions}


def fit_helper(module: _Supervised, tensors: tuple[Tensor, ...], steps: int, batch_size: int, seed: int) -> float:
    """Train ``module`` for ``steps`` optimiser steps on shuffled ``tensors``; return the last epoch's mean loss."""
    g = torch.Generator().manual_seed(seed)
    loader = DataLoader(TensorDataset(*tensors), batch_size=batch_size, shuffle=True, drop_last=True, generator=g)
    trainer = L.Trainer(
        max_steps=steps,
        max_epochs=max(1, math.ceil(steps / max(len(loader), 1))),
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=max(1, min(50, len(loader))),
    )
    trainer.fit(module, loader)
    return float(trainer.callback_metrics.get("train/loss", torch.tensor(float("nan"))))


def train_planner_models(
    models: PlannerModels, dm: TrajectoryDataModule, steps: int, batch_size: int = 256, lr: float = 1e-3, seed: int = 0
) -> dict[str, float]:
    """Train the transformer, inverse dynamics and critic on ``dm``; return their final training losses."""
    tensors = helper_tensors(dm)
    modules = {
        "transformer": TransformerModule(models.transformer, lr),
        "inverse_dynamics": InverseDynamicsModule(models.inverse_dynamics, lr),
        "critic": CriticModule(models.critic, lr),
    }
    losses = {}
    for i, (name, module) in enumerate(modules.items()):
        L.seed_everything(seed + i, verbose=False)
        losses[name] = fit_helper(module, tensors[name], steps, batch_size, seed + i)
        module.model.eval()
    return losses


def save_planner_models(models: PlannerModels, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``<out_dir>/<name>.safetensors`` for each helper."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, model in models.items():
        tmp = out / f".{name}.safetensors.tmp{os.getpid()}"
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp))
        os.replace(tmp, out / f"{name}.safetensors")
    return out


def load_planner_models(models: PlannerModels, in_dir: str | os.PathLike[str]) -> PlannerModels:
    """Load each helper's weights (strict) from ``in_dir``, naming the file on any problem."""
    for name, model in models.items():
        path = Path(in_dir) / f"{name}.safetensors"
        if not path.is_file():
            raise CheckpointError(f"{path}: planner weights not found (train with the planner_models callback)")
        try:
            model.load_state_dict(load_file(str(path)), strict=True)
        except (SafetensorError, OSError, ValueError, RuntimeError) as e:
            raise CheckpointError(f"{path}: unreadable or mismatched planner weights ({e})") from e
        model.eval()
    return models
