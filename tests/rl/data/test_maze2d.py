"""Built-in maze2d-style data: deterministic from the seed, cached, consistent rewards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from condiff.rl.data.maze2d import GOAL_RADIUS, cached_maze2d, generate_maze2d
from condiff.rl.envs.maze import MazeGeometry


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = generate_maze2d("pointmaze_umaze", 600, seed=3, episode_steps=200)
    b = generate_maze2d("pointmaze_umaze", 600, seed=3, episode_steps=200)
    c = generate_maze2d("pointmaze_umaze", 600, seed=4, episode_steps=200)
    np.testing.assert_array_equal(a.observations, b.observations)
    np.testing.assert_array_equal(a.actions, b.actions)
    assert not np.array_equal(a.observations, c.observations)
    assert [(e.start, e.stop) for e in a.episodes()] == [(0, 200), (200, 400), (400, 600)]


def test_states_stay_in_free_cells_and_rewards_mark_the_goal() -> None:
    ds = generate_maze2d("pointmaze_umaze", 2000, seed=0)
    geo = MazeGeometry("umaze")
    assert ds.goals is not None
    assert np.mean([geo.is_free(p) for p in ds.observations[:, :2]]) > 0.99
    nxt = ds.observations[1:, :2]
    hit = np.linalg.norm(nxt - ds.goals[:-1], axis=1) <= GOAL_RADIUS
    same_episode = ~(ds.timeouts[:-1] | ds.terminals[:-1])
    np.testing.assert_array_equal(ds.rewards[:-1][same_episode] > 0, hit[same_episode])
    assert np.abs(ds.actions).max() <= 1.0


def test_cache_is_written_once_and_read_back(tmp_path: Path) -> None:
    first = cached_maze2d("pointmaze_umaze", 500, 1, tmp_path)
    files = list((tmp_path / "rl").glob("*.hdf5"))
    assert len(files) == 1
    again = cached_maze2d("pointmaze_umaze", 500, 1, tmp_path)
    np.testing.assert_array_equal(first.observations, again.observations)


def test_locomotion_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a PointMaze"):
        generate_maze2d("hopper", 10)
