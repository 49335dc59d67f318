"""Fixed-horizon state windows with their conditions (return, goal) cut from an offline data set."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from condiff.core.errors import DataValidationError
from condiff.rl.data.dataset import OfflineDataset
from condiff.rl.envs.maze import MazeGeometry


@dataclass
class Normalizer:
    """Per-dimension standardisation ``(x - mean) / std`` of states (goals use the position dims)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Normalizer:
        return cls(x.mean(0).astype(np.float32), np.maximum(x.std(0), 1e-3).astype(np.float32))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std).astype(np.float32)

    def inverse(self, x: np.ndarray) -> np.ndarray:
        return (x * self.std + self.mean).astype(np.float32)


@dataclass
class Windows:
    """``states (N, H, D)`` raw states, ``returns (N,)`` in about [0, 1], ``goals (N, 2)`` or ``None``,
    ``actions (N, H, A)`` the data's actions (for inverse dynamics)."""

    states: np.ndarray
    actions: np.ndarray
    returns: np.ndarray
    goals: np.ndarray | None


def window_starts(ds: OfflineDataset, horizon: int, stride: int) -> np.ndarray:
    """Start indices of every ``horizon``-long window inside one episode, every ``stride`` steps."""
    starts = [np.arange(e.start, e.stop - horizon + 1, stride) for e in ds.episodes() if e.stop - e.start >= horizon]
    if not starts:
        raise DataValidationError(f"no episode is {horizon} steps long: lower the horizon")
    return np.concatenate(starts)


def return_windows(ds: OfflineDataset, horizon: int, stride: int, discount: float) -> Windows:
    """Windows conditioned on the discounted return-to-go ``R_t = sum_k gamma^k r_{t+k}`` to the episode end,
    scaled to [0, 1] by the data's min and max (Decision Diffuser, Ajay et al. 2023, Sec. 3.1)."""
    rtg = np.zeros(len(ds), dtype=np.float64)
    for e in ds.episodes():
        acc = 0.0
        for i in range(e.stop - 1, e.start - 1, -1):
            acc = ds.rewards[i] + discount * acc
            rtg[i] = acc
    starts = window_starts(ds, horizon, stride)
    r = rtg[starts]
    r = (r - rtg.min()) / max(rtg.max() - rtg.min(), 1e-8)
    idx = starts[:, None] + np.arange(horizon)
    return Windows(ds.observations[idx], ds.actions[idx], r.astype(np.float32), None)


def goal_windows(
    ds: OfflineDataset,
    geometry: MazeGeometry,
    horizon: int,
    stride: int,
    max_goal_steps: int,
    goals_per_window: int,
    rng: np.random.Generator,
) -> Windows:
    """Goal-reaching windows with hindsight goals (Andrychowicz et al. 2017): the goal is the position
    ``k ~ U[horizon/2, max_goal_steps]`` steps later in the same episode; the return is the geodesic
    progress toward it, ``(d(p_t, g) - d(p_{t+H-1}, g)) / (H v_max)``, ``v_max`` the 99th percentile
    of the data's per-step progress."""
    eps_end = np.zeros(len(ds), dtype=np.int64)
    for e in ds.episodes():
        eps_end[e] = e.stop
    starts = np.repeat(window_starts(ds, horizon, stride), goals_per_window)
    k = rng.integers(horizon // 2, max_goal_steps + 1, size=len(starts))
    goal_idx = np.minimum(starts + k, eps_end[starts] - 1)
    goals = ds.observations[goal_idx, :2]
    idx = starts[:, None] + np.arange(horizon)
    d0 = geometry.geodesic_distance(ds.observations[starts, :2], goals)
    d1 = geometry.geodesic_distance(ds.observations[starts + horizon - 1, :2], goals)
    speed = np.percentile(np.linalg.norm(np.diff(ds.observations[:, :2], axis=0), axis=1), 99)
    progress = (d0 - d1) / (max(speed, 1e-6) * (horizon - 1))
    return Windows(ds.observations[idx], ds.actions[idx], np.clip(progress, -1, 1).astype(np.float32), goals)
