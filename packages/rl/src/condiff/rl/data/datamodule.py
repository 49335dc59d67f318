"""Lightning data module of normalised state windows for the trajectory diffusion model and its helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from condiff.core.errors import ConfigError
from condiff.rl.data.dataset import OfflineDataset
from condiff.rl.data.sources import load_offline_data
from condiff.rl.data.windows import Normalizer, Windows, goal_windows, return_windows
from condiff.rl.envs.make import env_spec
from condiff.rl.envs.maze import MazeGeometry


def split_episodes(ds: OfflineDataset, val_fraction: float) -> tuple[OfflineDataset, OfflineDataset]:
    """The first ``1 - val_fraction`` of the episodes and the rest (held out)."""
    eps = ds.episodes()
    n_val = max(1, round(len(eps) * val_fraction)) if val_fraction > 0 else 0
    if n_val >= len(eps):
        raise ConfigError(f"config key 'task.datamodule.val_fraction': {len(eps)} episode(s) cannot be split")
    cut = eps[len(eps) - n_val].start if n_val else len(ds)
    return _rows(ds, slice(0, cut)), _rows(ds, slice(cut, len(ds)))


def _rows(ds: OfflineDataset, s: slice) -> OfflineDataset:
    if s.stop - s.start < 2:
        return ds  # empty hold-out: never indexed
    goals = None if ds.goals is None else ds.goals[s]
    return OfflineDataset(ds.observations[s], ds.actions[s], ds.rewards[s], ds.terminals[s], ds.timeouts[s], goals)


class WindowDataset(Dataset[dict[str, Any]]):
    """``x0: (D, H)`` normalised states; ``cond``: ``returns (1,)``, ``start (D,)`` (the window's first state,
    clean: the planner's current state) and, for mazes, ``goal (2,)``."""

    def __init__(self, w: Windows, norm: Normalizer) -> None:
        self.x0 = torch.from_numpy(norm(w.states)).transpose(1, 2).contiguous()
        self.returns = torch.from_numpy(w.returns)[:, None]
        self.goals = None if w.goals is None else torch.from_numpy(norm(_pad_goal(w.goals, norm))[:, :2])

    def __len__(self) -> int:
        return len(self.x0)

    def __getitem__(self, i: int) -> dict[str, Any]:
        cond = {"returns": self.returns[i], "start": self.x0[i, :, 0]}
        if self.goals is not None:
            cond["goal"] = self.goals[i]
        return {"x0": self.x0[i], "cond": cond}


def _pad_goal(goals: np.ndarray, norm: Normalizer) -> np.ndarray:
    """Goals ``(N, 2)`` padded with the state mean so the state normaliser applies to their position dims."""
    out = np.tile(norm.mean, (len(goals), 1))
    out[:, :2] = goals
    return out


class TrajectoryDataModule(L.LightningDataModule):
    """State windows of ``horizon`` steps from the offline data of ``env``.

    Args:
        env: an environment name of :data:`condiff.rl.envs.ENVIRONMENTS`.
        source: ``builtin`` (generated locally and cached), ``d4rl`` (HDF5 file) or ``minari`` (folder).
        path: the D4RL file or Minari folder (``source`` d4rl / minari).
        num_steps: transitions of the built-in data set.
        horizon: planning horizon ``H`` (a multiple of 4 for the temporal UNet).
        stride: steps between two window starts.
        discount: discount of the return-to-go (locomotion).
        max_goal_steps: farthest hindsight goal, in steps (mazes).
        goals_per_window: hindsight goals drawn per window (mazes).
        val_fraction: fraction of the episodes held out.
        batch_size: training batch size.
        seed: seed of the data generator and of the hindsight goals.
        cache_dir: where the built-in data is cached.
    """

    def __init__(
        self,
        env: str,
        source: str = "builtin",
        path: str | None = None,
        num_steps: int = 100_000,
        horizon: int = 32,
        stride: int = 1,
        discount: float = 0.99,
        max_goal_steps: int = 150,
        goals_per_window: int = 1,
        val_fraction: float = 0.1,
        batch_size: int = 64,
        seed: int = 0,
        cache_dir: str | os.PathLike[str] = ".",
    ) -> None:
        super().__init__()
        self.spec = env_spec(env)
        if horizon < 4 or horizon % 4:
            raise ConfigError(f"config key 'task.datamodule.horizon': {horizon} is not a multiple of 4 (>= 4)")
        if not 0.0 <= val_fraction < 1.0:
            raise ConfigError(f"config key 'task.datamodule.val_fraction': {val_fraction} is not in [0, 1)")
        self.env, self.source, self.path = env, source, path
        self.num_steps, self.horizon, self.stride, self.discount = int(num_steps), int(horizon), int(stride), discount
        self.max_goal_steps, self.goals_per_window = int(max_goal_steps), int(goals_per_window)
        self.val_fraction, self.batch_size, self.seed, self.cache_dir = (
            val_fraction,
            int(batch_size),
            int(seed),
            cache_dir,
        )
        self.data: OfflineDataset | None = None

    # -- data -----------------------------------------------------------------------
    def prepare(self) -> None:
        """Load (or generate) the data, split episodes, cut windows, fit the normaliser (idempotent)."""
        if self.data is not None:
            return
        self.data = load_offline_data(self.env, self.source, self.path, self.num_steps, self.seed, self.cache_dir)
        self.train_data, self.val_data = split_episodes(self.data, self.val_fraction)
        self.norm = Normalizer.fit(self.train_data.observations)
        # the training states' range, normalised: the planner clips its x0 predictions to it
        obs = self.train_data.observations
        self.state_bounds = (self.norm(obs.min(0)), self.norm(obs.max(0)))
        self.action_scale = np.maximum(np.abs(self.train_data.actions).max(0), 1e-6).astype(np.float32)
        self.train_windows = self._windows(self.train_data, self.seed)
        self.val_windows = self._windows(self.val_data, self.seed + 1) if self.val_fraction > 0 else None

    def _windows(self, ds: OfflineDataset, seed: int) -> Windows:
        if self.spec.maze is None:
            return return_windows(ds, self.horizon, self.stride, self.discount)
        rng = np.random.default_rng(seed)
        geo = MazeGeometry(self.spec.maze)
        return goal_windows(ds, geo, self.horizon, self.stride, self.max_goal_steps, self.goals_per_window, rng)

    def setup(self, stage: str | None = None) -> None:
        self.prepare()

    @property
    def state_dim(self) -> int:
        self.prepare()
        return int(self.norm.mean.shape[0])

    @property
    def action_dim(self) -> int:
        self.prepare()
        assert self.data is not None
        return int(self.data.actions.shape[1])

    def normalize_goal(self, goals: np.ndarray) -> np.ndarray:
        return self.norm(_pad_goal(goals, self.norm))[:, :2]

    # -- loaders --------------------------------------------------------------------
    def train_dataloader(self) -> DataLoader[dict[str, Any]]:
        self.prepare()
        g = torch.Generator().manual_seed(self.seed)
        ds = WindowDataset(self.train_windows, self.norm)
        return DataLoader(
            ds, batch_size=self.batch_size, shuffle=True, drop_last=len(ds) > self.batch_size, generator=g
        )

    def val_dataloader(self) -> DataLoader[dict[str, Any]]:
        self.prepare()
        if self.val_windows is None:
            raise ConfigError("config key 'task.datamodule.val_fraction': 0 leaves no validation data")
        return DataLoader(WindowDataset(self.val_windows, self.norm), batch_size=self.batch_size)

    def sampling_batches(self, num_samples: int, batch_size: int) -> Iterator[dict[str, Any]]:
        """Conditions of held-out windows for ``condiff-sample``: ``shape (b, D, H)`` and ``cond``."""
        self.prepare()
        ds = WindowDataset(self.val_windows or self.train_windows, self.norm)
        idx = np.linspace(0, len(ds) - 1, num_samples).round().astype(np.int64)
        for s in range(0, num_samples, batch_size):
            items = [ds[int(i)] for i in idx[s : s + batch_size]]
            cond = {k: torch.stack([it["cond"][k] for it in items]) for k in items[0]["cond"]}
            cond["returns"] = torch.ones_like(cond["returns"])  # plans asked for the best return
            yield {"shape": (len(items), self.state_dim, self.horizon), "cond": cond}
