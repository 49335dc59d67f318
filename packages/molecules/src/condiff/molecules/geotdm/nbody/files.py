"""Train/val/test splits of simulated N-body trajectories as ``.npz`` files, and their validating loader."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from condiff.core.errors import ConfigError, DataValidationError
from condiff.molecules.geotdm.nbody.simulate import NBodyConfig, NBodyTrajectories, simulate_systems

SPLITS = ("train", "val", "test")
_KEYS = ("positions", "velocities", "charges", "couplings")


def write_nbody_splits(
    directory: str | Path,
    sizes: dict[str, int],
    config: NBodyConfig,
    seed: int = 0,
) -> dict[str, Path]:
    """Simulate each split with its own seed (``seed + index of the split``) and write ``<split>.npz``.

    Each file holds ``positions, velocities: (B, N, T, 3)``, ``charges: (B, N)``, ``couplings: (B, N, N)`` in
    float32. Returns the written paths by split name.
    """
    unknown = set(sizes) - set(SPLITS)
    if unknown:
        raise ConfigError(f"write_nbody_splits: unknown split names {sorted(unknown)}, expected a subset of {SPLITS}")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for index, split in enumerate(SPLITS):
        if split not in sizes:
            continue
        traj = simulate_systems(sizes[split], config, seed=seed + index)
        path = out / f"{split}.npz"
        np.savez(path, **{key: getattr(traj, key).to(torch.float32).numpy() for key in _KEYS})
        paths[split] = path
    return paths


def load_nbody_npz(path: str | Path) -> NBodyTrajectories:
    """Load one split written by :func:`write_nbody_splits`, checking keys, shapes and finiteness.

    Raises:
        DataValidationError: naming the file, when it is missing or not an ``.npz`` archive, a key is missing,
            a shape is wrong or disagrees with the others, or a value is NaN or infinite.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: no such N-body file")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [key for key in _KEYS if key not in data.files]
            if missing:
                raise DataValidationError(f"{path}: missing keys {missing} (found {sorted(data.files)})")
            arrays = {key: np.asarray(data[key]) for key in _KEYS}
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        if isinstance(e, DataValidationError):
            raise
        raise DataValidationError(f"{path}: not a readable .npz archive ({e})") from e
    pos = arrays["positions"]
    if pos.ndim != 4 or pos.shape[-1] != 3:
        raise DataValidationError(f"{path}: 'positions' must be (B, N, T, 3), got {pos.shape}")
    b, n = pos.shape[:2]
    expected = {"velocities": pos.shape, "charges": (b, n), "couplings": (b, n, n)}
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise DataValidationError(
                f"{path}: '{key}' must have shape {shape} to match 'positions', got {arrays[key].shape}"
            )
    for key, array in arrays.items():
        if not np.issubdtype(array.dtype, np.floating):
            raise DataValidationError(f"{path}: '{key}' must be floating point, got {array.dtype}")
        bad = ~np.isfinite(array)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataValidationError(f"{path}: '{key}' holds {int(bad.sum())} NaN/inf values (first at {first})")
    return NBodyTrajectories(*(torch.from_numpy(arrays[key].astype(np.float32)) for key in _KEYS))
