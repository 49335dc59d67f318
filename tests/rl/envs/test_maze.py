"""PointMaze geometry, shortest paths, geodesic distance and the waypoint controller."""

from __future__ import annotations

import numpy as np
import pytest

from condiff.rl.envs import MazeGeometry, WaypointController, make_env
from condiff.rl.envs.make import ENVIRONMENTS, flat_observation, normalized_score


def test_cell_centres_round_trip_and_match_gymnasium_robotics() -> None:
    geo = MazeGeometry("medium")
    env = make_env("pointmaze_medium")
    maze = env.unwrapped.maze  # type: ignore[attr-defined]
    for cell in geo.free_cells:
        np.testing.assert_allclose(geo.cell_to_xy(cell), maze.cell_rowcol_to_xy(np.array(cell)))
        assert geo.xy_to_cell(geo.cell_to_xy(cell) + 0.3) == cell
    env.close()


def test_shortest_path_and_geodesic_distance_go_around_the_u() -> None:
    geo = MazeGeometry("umaze")
    path = geo.shortest_path((3, 1), (1, 1))
    assert path == [(3, 1), (3, 2), (3, 3), (2, 3), (1, 3), (1, 2), (1, 1)]
    start, goal = geo.cell_to_xy((3, 1)), geo.cell_to_xy((1, 1))
    assert np.linalg.norm(start - goal) == pytest.approx(2.0)
    assert geo.geodesic_distance(start[None], goal[None])[0] == pytest.approx(6.0)  # six cell hops, not 2
    inside = geo.cell_to_xy((1, 2))
    assert geo.geodesic_distance(inside[None], (inside + np.array([0.3, 0.0]))[None])[0] == pytest.approx(0.3)


def test_unknown_maze_and_unreachable_cells_raise() -> None:
    with pytest.raises(ValueError, match="unknown maze"):
        MazeGeometry("large-ish")
    with pytest.raises(ValueError, match="no path"):
        MazeGeometry("umaze").shortest_path((1, 1), (0, 0))


def test_waypoint_controller_crosses_the_u_maze() -> None:
    geo = MazeGeometry("umaze")
    ctrl, rng = WaypointController(geo, noise=0.0), np.random.default_rng(0)
    env = make_env("pointmaze_umaze")
    obs, _ = env.reset(seed=0, options={"reset_cell": (3, 1), "goal_cell": (1, 1)})
    goal = obs["desired_goal"]
    reached = None
    for k in range(300):
        obs, *_ = env.step(ctrl(flat_observation(obs), goal, rng))
        if np.linalg.norm(obs["observation"][:2] - goal) < 0.45:
            reached = k
            break
    env.close()
    assert reached is not None
    assert reached < 200


def test_normalized_score_uses_the_d4rl_references() -> None:
    spec = ENVIRONMENTS["hopper"]
    assert normalized_score(spec, spec.ref_min) == pytest.approx(0.0)
    assert normalized_score(spec, spec.ref_max) == pytest.approx(100.0)
