"""Splits round-trip through .npz; the loader names the file and the problem for bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from condiff.core.errors import DataValidationError
from condiff.molecules.geotdm.nbody import NBodyConfig, load_nbody_npz, simulate_systems, write_nbody_splits

CONFIG = NBodyConfig(num_frames=4, sample_every=10)


def _arrays(b: int = 2, n: int = 5, t: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "positions": rng.normal(size=(b, n, t, 3)).astype(np.float32),
        "velocities": rng.normal(size=(b, n, t, 3)).astype(np.float32),
        "charges": np.ones((b, n), np.float32),
        "couplings": np.ones((b, n, n), np.float32),
    }


def test_written_splits_load_back_and_differ(tmp_path: Path) -> None:
    paths = write_nbody_splits(tmp_path, {"train": 3, "val": 2, "test": 2}, CONFIG, seed=5)
    assert sorted(paths) == ["test", "train", "val"]
    train = load_nbody_npz(paths["train"])
    assert train.positions.shape == (3, 5, 4, 3)
    assert train.positions.dtype == torch.float32
    torch.testing.assert_close(train.positions, simulate_systems(3, CONFIG, seed=5).positions.float())
    test = load_nbody_npz(paths["test"])
    assert not torch.equal(train.positions[:2], test.positions)


def test_unknown_split_name_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown split"):
        write_nbody_splits(tmp_path, {"training": 2}, CONFIG)


def test_missing_file_and_corrupt_file_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"nope\.npz"):
        load_nbody_npz(tmp_path / "nope.npz")
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(b"not a zip archive")
    with pytest.raises(DataValidationError, match=r"corrupt\.npz: not a readable"):
        load_nbody_npz(bad)


def test_missing_key_is_named(tmp_path: Path) -> None:
    arrays = _arrays()
    del arrays["velocities"]
    np.savez(tmp_path / "train.npz", **arrays)
    with pytest.raises(DataValidationError, match=r"train\.npz: missing keys \['velocities'\]"):
        load_nbody_npz(tmp_path / "train.npz")


@pytest.mark.parametrize(
    ("key", "shape", "message"),
    [
        ("positions", (2, 5, 4, 2), "positions"),
        ("velocities", (2, 5, 3, 3), "velocities"),
        ("charges", (2, 4), "charges"),
    ],
)
def test_wrong_shapes_are_named(tmp_path: Path, key: str, shape: tuple[int, ...], message: str) -> None:
    arrays = _arrays()
    arrays[key] = np.zeros(shape, np.float32)
    np.savez(tmp_path / "val.npz", **arrays)
    with pytest.raises(DataValidationError, match=rf"val\.npz: '{message}'"):
        load_nbody_npz(tmp_path / "val.npz")


def test_nan_is_reported_with_its_position(tmp_path: Path) -> None:
    arrays = _arrays()
    arrays["positions"][1, 2, 3, 0] = np.nan
    np.savez(tmp_path / "test.npz", **arrays)
    with pytest.raises(
        DataValidationError, match=r"test\.npz: 'positions' holds 1 NaN/inf values \(first at \(1, 2, 3, 0\)\)"
    ):
        load_nbody_npz(tmp_path / "test.npz")
