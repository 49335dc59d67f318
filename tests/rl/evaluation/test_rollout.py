"""Rollouts, start/goal pairs, plan feasibility and trajectory pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from condiff.rl.envs.maze import MazeGeometry
from condiff.rl.evaluation import BehaviourPolicy, RandomPolicy, maze_pairs, rollout
from condiff.rl.evaluation.evaluator import plan_feasibility
from condiff.rl.evaluation.plot import maze_trajectory_image, save_image, state_curve_image


def test_maze_pairs_are_seeded_and_far_enough_apart() -> None:
    geo = MazeGeometry("umaze")
    pairs = maze_pairs(geo, 10, seed=5, min_hops=3)
    assert pairs == maze_pairs(geo, 10, seed=5, min_hops=3)
    assert all(len(geo.shortest_path(a, b)) - 1 >= 3 for a, b in pairs)


def test_rollout_is_reproducible_and_records_every_step() -> None:
    a = rollout("pointmaze_umaze", RandomPolicy(2, seed=1), 3, seed=2, max_steps=25)
    b = rollout("pointmaze_umaze", RandomPolicy(2, seed=1), 3, seed=2, max_steps=25)
    np.testing.assert_array_equal(a.returns, b.returns)
    assert all(len(t) == 26 for t in a.trajectories)  # the reset state plus 25 steps
    np.testing.assert_allclose(a.trajectories[0], b.trajectories[0])
    assert a.goals is not None
    assert a.goals.shape == (3, 2)
    summary = a.summary()
    assert summary["episodes"] == 3
    assert 0.0 <= summary["success_rate"] <= 1.0


def test_behaviour_policy_moves_fast_and_locomotion_runs_without_goals() -> None:
    res = rollout("pointmaze_umaze", BehaviourPolicy(MazeGeometry("umaze"), seed=0), 2, seed=0, max_steps=50)
    assert np.linalg.norm(res.trajectories[0][-1, :2] - res.trajectories[0][0, :2]) > 0.5
    hop = rollout("hopper", RandomPolicy(3, seed=0), 2, seed=0, max_steps=20)
    assert hop.goals is None
    assert not hop.success.any()
    assert np.isfinite(hop.scores).all()


def test_plan_feasibility_counts_positions_inside_walls() -> None:
    geo = MazeGeometry("umaze")
    free, wall = geo.cell_to_xy((1, 1)), geo.cell_to_xy((2, 1))
    assert plan_feasibility(geo, np.stack([free, free, free, wall])) == 0.75


def test_pictures_are_written(tmp_path: Path) -> None:
    geo = MazeGeometry("umaze")
    traj = [np.array([[-1.0, -1.0, 0, 0], [0.0, -1.0, 0, 0], [1.0, 0.0, 0, 0]])]
    path = save_image(maze_trajectory_image(geo, traj, np.array([[1.0, 1.0]])), tmp_path / "maze.png")
    with Image.open(path) as img:
        assert img.size == (5 * 64, 5 * 64)
    path = save_image(state_curve_image([np.random.default_rng(0).standard_normal((30, 11))]), tmp_path / "curve.png")
    with Image.open(path) as img:
        assert img.size == (640, 320)
