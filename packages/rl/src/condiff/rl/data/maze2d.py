"""Built-in PointMaze offline data in the style of D4RL's maze2d, generated and cached locally."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from condiff.rl.data.d4rl import load_d4rl_hdf5, write_d4rl_hdf5
from condiff.rl.data.dataset import OfflineDataset
from condiff.rl.envs.make import env_spec, flat_observation, make_env
from condiff.rl.envs.maze import MazeGeometry, WaypointController

GOAL_RADIUS = 0.5  # maze2d's sparse reward: 1 within this distance of the goal


def generate_maze2d(
    env_name: str, num_steps: int, seed: int = 0, episode_steps: int = 1000, noise: float = 0.3
) -> OfflineDataset:
    """Roll the noisy :class:`WaypointController` through PointMaze, switching to a new random goal
    cell whenever the current goal is reached (D4RL maze2d's recipe; Fu et al. 2020, App. C).

    Episodes of ``episode_steps`` start in a random free cell; rewards are maze2d's sparse
    ``1[|p - g| <= 0.5]``; ``goals`` holds the controller's goal of each step.
    """
    spec = env_spec(env_name)
    if spec.maze is None:
        raise ValueError(f"generate_maze2d: {env_name!r} is not a PointMaze environment")
    geometry = MazeGeometry(spec.maze)
    controller = WaypointController(geometry, noise=noise)
    rng = np.random.default_rng(seed)
    env = make_env(env_name, max_episode_steps=episode_steps + 1)
    obs_l: list[np.ndarray] = []
    act_l: list[np.ndarray] = []
    goal_l: list[np.ndarray] = []
    rew_l: list[float] = []
    timeouts: list[bool] = []
    while len(obs_l) < num_steps:
        reset_cell = geometry.free_cells[rng.integers(len(geometry.free_cells))]
        obs, _ = env.reset(seed=int(rng.integers(2**31)), options={"reset_cell": reset_cell})
        goal = _random_goal(geometry, rng)
        for k in range(min(episode_steps, num_steps - len(obs_l))):
            s = flat_observation(obs)
            if np.linalg.norm(s[:2] - goal) <= GOAL_RADIUS:
                goal = _random_goal(geometry, rng)
            a = controller(s, goal, rng)
            obs, _, _, _, _ = env.step(a)
            obs_l.append(s)
            act_l.append(a)
            goal_l.append(goal.astype(np.float32))
            rew_l.append(float(np.linalg.norm(flat_observation(obs)[:2] - goal) <= GOAL_RADIUS))
            timeouts.append(k == episode_steps - 1)
    env.close()
    timeouts[-1] = True
    n = len(obs_l)
    return OfflineDataset(
        observations=np.stack(obs_l),
        actions=np.stack(act_l),
        rewards=np.asarray(rew_l, dtype=np.float32),
        terminals=np.zeros(n, dtype=bool),
        timeouts=np.asarray(timeouts, dtype=bool),
        goals=np.stack(goal_l),
    )


def _random_goal(geometry: MazeGeometry, rng: np.random.Generator) -> np.ndarray:
    cell = geometry.free_cells[rng.integers(len(geometry.free_cells))]
    return geometry.cell_to_xy(cell) + rng.uniform(-0.25, 0.25, size=2)


def cached_maze2d(
    env_name: str, num_steps: int, seed: int, cache_dir: str | os.PathLike[str], noise: float = 0.3
) -> OfflineDataset:
    """:func:`generate_maze2d` once, then read from ``<cache_dir>/rl/<env>-<steps>-seed<seed>-noise<noise>.hdf5``."""
    path = Path(cache_dir) / "rl" / f"{env_name}-{num_steps}-seed{seed}-noise{noise:g}.hdf5"
    if path.is_file():
        return load_d4rl_hdf5(path)
    ds = generate_maze2d(env_name, num_steps, seed=seed, noise=noise)
    write_d4rl_hdf5(ds, path)
    return ds
