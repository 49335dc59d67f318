"""Minari data sets from local folders: flat and dict observations, clear errors."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from condiff.core.errors import DataValidationError
from condiff.rl.data import load_minari


def _write(root: Path, lengths: list[int], dict_obs: bool) -> Path:
    (root / "data").mkdir(parents=True)
    rng = np.random.default_rng(1)
    with h5py.File(root / "data" / "main_data.hdf5", "w") as f:
        for k, t in enumerate(lengths):
            ep = f.create_group(f"episode_{k}")
            if dict_obs:
                obs = ep.create_group("observations")
                obs["observation"] = rng.standard_normal((t + 1, 4))
                obs["desired_goal"] = np.tile(rng.standard_normal(2), (t + 1, 1))
                obs["achieved_goal"] = rng.standard_normal((t + 1, 2))
            else:
                ep["observations"] = rng.standard_normal((t + 1, 3))
            ep["actions"] = rng.uniform(-1, 1, (t, 2))
            ep["rewards"] = rng.random(t)
            ep["terminations"] = np.eye(t, dtype=bool)[-1] if k == 0 else np.zeros(t, bool)
            ep["truncations"] = np.zeros(t, bool)
    return root


def test_flat_observations_become_d4rl_layout(tmp_path: Path) -> None:
    ds = load_minari(_write(tmp_path / "hopper-medium-v0", [5, 7], dict_obs=False))
    assert ds.observations.shape == (12, 3)
    assert ds.actions.shape == (12, 2)
    assert [(e.start, e.stop) for e in ds.episodes()] == [(0, 5), (5, 12)]
    assert ds.terminals[4]
    assert not ds.timeouts[4]
    assert ds.timeouts[11]


def test_pointmaze_dict_observations_keep_the_goal(tmp_path: Path) -> None:
    ds = load_minari(_write(tmp_path / "pointmaze-umaze-v1", [6, 4], dict_obs=True))
    assert ds.observations.shape == (10, 4)
    assert ds.goals is not None
    assert ds.goals.shape == (10, 2)


def test_missing_array_and_wrong_length_name_the_episode(tmp_path: Path) -> None:
    root = _write(tmp_path / "bad", [5, 5], dict_obs=False)
    with h5py.File(root / "data" / "main_data.hdf5", "r+") as f:
        del f["episode_1/rewards"]
    with pytest.raises(DataValidationError, match=r"main_data\.hdf5:episode_1.*'rewards'"):
        load_minari(root)
    root = _write(tmp_path / "bad2", [5], dict_obs=False)
    with h5py.File(root / "data" / "main_data.hdf5", "r+") as f:
        del f["episode_0/observations"]
        f["episode_0/observations"] = np.zeros((5, 3))
    with pytest.raises(DataValidationError, match=r"episode_0: 5 observations for 5 actions"):
        load_minari(root)


def test_folder_without_data_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="no Minari data file"):
        load_minari(tmp_path)
