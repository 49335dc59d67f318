"""The in-memory offline data set: flat arrays of transitions in D4RL's layout, validated."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from condiff.core.errors import DataValidationError


@dataclass
class OfflineDataset:
    """Transitions in D4RL's flat layout; an episode ends where ``terminals`` or ``timeouts`` is true.

    Shapes: ``observations (N, D)``, ``actions (N, A)``, ``rewards (N,)``, ``terminals (N,)``,
    ``timeouts (N,)`` and, for goal-reaching data (maze2d), ``goals (N, 2)``.
    """

    observations: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    terminals: np.ndarray
    timeouts: np.ndarray
    goals: np.ndarray | None = None

    def __post_init__(self) -> None:
        validate_arrays(self, source="offline data set")

    def __len__(self) -> int:
        return int(self.observations.shape[0])

    def episodes(self) -> list[slice]:
        """Index ranges of the episodes (the last one ends with the data even without a flag)."""
        ends = np.nonzero(self.terminals | self.timeouts)[0]
        out, start = [], 0
        for e in ends:
            out.append(slice(start, int(e) + 1))
            start = int(e) + 1
        if start < len(self):
            out.append(slice(start, len(self)))
        return out


def validate_arrays(ds: OfflineDataset, source: str) -> None:
    """Check shapes, dtypes and finiteness; raise :class:`DataValidationError` naming ``source`` and the key."""
    n = ds.observations.shape[0] if ds.observations.ndim >= 1 else -1
    expected_ndim = {"observations": 2, "actions": 2, "rewards": 1, "terminals": 1, "timeouts": 1, "goals": 2}
    for key, ndim in expected_ndim.items():
        arr = getattr(ds, key)
        if arr is None:
            continue
        if not isinstance(arr, np.ndarray) or arr.ndim != ndim:
            shape = getattr(arr, "shape", type(arr).__name__)
            raise DataValidationError(f"{source}: '{key}' must be a {ndim}-d array, found shape {shape}")
        if arr.shape[0] != n:
            raise DataValidationError(f"{source}: '{key}' has {arr.shape[0]} rows, 'observations' has {n}")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            bad = int(np.nonzero(~np.isfinite(arr).reshape(n, -1).all(axis=1))[0][0])
            raise DataValidationError(f"{source}: '{key}' holds NaN or inf (first at row {bad})")
    if n < 2:
        raise DataValidationError(f"{source}: needs at least 2 transitions, found {n}")
