"""Read and write D4RL HDF5 files (``observations``, ``actions``, ``rewards``, ``terminals``, ``timeouts``)."""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from condiff.core.errors import DataValidationError
from condiff.rl.data.dataset import OfflineDataset

REQUIRED = ("observations", "actions", "rewards", "terminals")


def load_d4rl_hdf5(path: str | os.PathLike[str]) -> OfflineDataset:
    """Load a D4RL data set file from a local path (never downloaded).

    ``timeouts`` may be absent (older D4RL v0 files); ``infos/goal`` is read when present (maze2d).
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: D4RL file not found")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise DataValidationError(f"{path}: not a readable HDF5 file ({e})") from e
    with f:
        missing = [k for k in REQUIRED if k not in f]
        if missing:
            raise DataValidationError(f"{path}: missing key(s) {missing} (found {sorted(f.keys())})")
        arrays = {k: _read(f, k, path) for k in REQUIRED}
        n = len(arrays["observations"])
        timeouts = _read(f, "timeouts", path) if "timeouts" in f else np.zeros(n, dtype=bool)
        goals = _read(f, "infos/goal", path) if "infos/goal" in f else None
    try:
        return OfflineDataset(
            observations=arrays["observations"].astype(np.float32),
            actions=arrays["actions"].astype(np.float32),
            rewards=arrays["rewards"].astype(np.float32).reshape(-1),
            terminals=arrays["terminals"].astype(bool).reshape(-1),
            timeouts=timeouts.astype(bool).reshape(-1),
            goals=None if goals is None else goals.astype(np.float32),
        )
    except DataValidationError as e:
        raise DataValidationError(f"{path}: {e}") from e


def _read(f: h5py.File, key: str, path: Path) -> np.ndarray:
    obj = f[key]
    if not isinstance(obj, h5py.Dataset):
        raise DataValidationError(f"{path}: '{key}' is a group, expected an array")
    arr = np.asarray(obj[()])
    if arr.dtype.kind not in "fiub":
        raise DataValidationError(f"{path}: '{key}' has dtype {arr.dtype}, expected numbers")
    return arr


def write_d4rl_hdf5(ds: OfflineDataset, path: str | os.PathLike[str]) -> Path:
    """Write ``ds`` in D4RL's layout (atomically: a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with h5py.File(tmp, "w") as f:
        for key in ("observations", "actions", "rewards", "terminals", "timeouts"):
            f.create_dataset(key, data=getattr(ds, key))
        if ds.goals is not None:
            f.create_dataset("infos/goal", data=ds.goals)
    os.replace(tmp, path)
    return path
