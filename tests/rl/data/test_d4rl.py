"""D4RL HDF5 files: round trip and clear errors on bad files."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from condiff.core.errors import DataValidationError
from condiff.rl.data import OfflineDataset, load_d4rl_hdf5, write_d4rl_hdf5


def _dataset(n: int = 50, goals: bool = True) -> OfflineDataset:
    rng = np.random.default_rng(0)
    timeouts = np.zeros(n, dtype=bool)
    timeouts[[19, n - 1]] = True
    return OfflineDataset(
        observations=rng.standard_normal((n, 4)).astype(np.float32),
        actions=rng.uniform(-1, 1, (n, 2)).astype(np.float32),
        rewards=rng.random(n).astype(np.float32),
        terminals=np.zeros(n, dtype=bool),
        timeouts=timeouts,
        goals=rng.standard_normal((n, 2)).astype(np.float32) if goals else None,
    )


def test_round_trip_keeps_every_array_and_the_episodes(tmp_path: Path) -> None:
    ds = _dataset()
    back = load_d4rl_hdf5(write_d4rl_hdf5(ds, tmp_path / "maze2d.hdf5"))
    for key in ("observations", "actions", "rewards", "terminals", "timeouts", "goals"):
        np.testing.assert_array_equal(getattr(back, key), getattr(ds, key))
    assert [(e.start, e.stop) for e in back.episodes()] == [(0, 20), (20, 50)]


def test_file_without_timeouts_is_one_episode_per_terminal(tmp_path: Path) -> None:
    path = tmp_path / "v0.hdf5"
    with h5py.File(path, "w") as f:
        f["observations"] = np.zeros((10, 3), np.float32)
        f["actions"] = np.zeros((10, 1), np.float32)
        f["rewards"] = np.ones(10, np.float32)
        f["terminals"] = np.eye(10, dtype=bool)[4]
    ds = load_d4rl_hdf5(path)
    assert ds.goals is None
    assert [(e.start, e.stop) for e in ds.episodes()] == [(0, 5), (5, 10)]


def test_missing_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "broken.hdf5"
    with h5py.File(path, "w") as f:
        f["observations"] = np.zeros((10, 3), np.float32)
        f["rewards"] = np.zeros(10, np.float32)
        f["terminals"] = np.zeros(10, bool)
    with pytest.raises(DataValidationError, match=r"broken\.hdf5.*'actions'"):
        load_d4rl_hdf5(path)


def test_nan_and_length_mismatch_are_reported_with_the_key(tmp_path: Path) -> None:
    ds = _dataset(goals=False)
    path = write_d4rl_hdf5(ds, tmp_path / "nan.hdf5")
    with h5py.File(path, "r+") as f:
        f["observations"][7, 1] = np.nan
    with pytest.raises(DataValidationError, match=r"nan\.hdf5.*'observations'.*row 7"):
        load_d4rl_hdf5(path)
    path = tmp_path / "short.hdf5"
    with h5py.File(path, "w") as f:
        f["observations"] = np.zeros((10, 3), np.float32)
        f["actions"] = np.zeros((9, 1), np.float32)
        f["rewards"] = np.zeros(10, np.float32)
        f["terminals"] = np.zeros(10, bool)
    with pytest.raises(DataValidationError, match=r"short\.hdf5.*'actions' has 9 rows"):
        load_d4rl_hdf5(path)


def test_corrupt_or_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.hdf5"
    bad.write_bytes(b"not an hdf5 file at all")
    with pytest.raises(DataValidationError, match=r"corrupt\.hdf5.*not a readable HDF5"):
        load_d4rl_hdf5(bad)
    with pytest.raises(DataValidationError, match="not found"):
        load_d4rl_hdf5(tmp_path / "absent.hdf5")
