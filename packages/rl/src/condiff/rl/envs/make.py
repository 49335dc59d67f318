"""Named environments of condiff-rl and their D4RL reference returns for normalised scores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np


@dataclass(frozen=True)
class EnvSpec:
    """An environment condiff-rl plans in.

    ``ref_min``/``ref_max`` are D4RL's reference returns (``d4rl/infos.py``: random and expert policy
    returns for locomotion, the maze2d random/expert scores for mazes); normalised score
    ``100 (R - ref_min) / (ref_max - ref_min)`` (Fu et al. 2020, Sec. 5).
    """

    name: str
    gym_id: str
    max_episode_steps: int
    ref_min: float
    ref_max: float
    maze: str | None = None  # PointMaze map name; None for locomotion

    @property
    def goal_conditioned(self) -> bool:
        return self.maze is not None


ENVIRONMENTS: dict[str, EnvSpec] = {
    "pointmaze_umaze": EnvSpec("pointmaze_umaze", "PointMaze_UMaze-v3", 300, 23.85, 161.86, maze="umaze"),
    "pointmaze_medium": EnvSpec("pointmaze_medium", "PointMaze_Medium-v3", 600, 13.13, 277.39, maze="medium"),
    "hopper": EnvSpec("hopper", "Hopper-v5", 1000, -20.272305, 3234.3),
    "halfcheetah": EnvSpec("halfcheetah", "HalfCheetah-v5", 1000, -280.178953, 12135.0),
    "walker2d": EnvSpec("walker2d", "Walker2d-v5", 1000, 1.629008, 4592.3),
}


def env_spec(name: str) -> EnvSpec:
    if name not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {name!r}; expected one of {sorted(ENVIRONMENTS)}")
    return ENVIRONMENTS[name]


def make_env(name: str, max_episode_steps: int | None = None) -> gym.Env[Any, Any]:
    """The gymnasium environment ``name``; PointMaze runs as maze2d does (goal fixed, episode continues at it)."""
    spec = env_spec(name)
    steps = max_episode_steps or spec.max_episode_steps
    if spec.goal_conditioned:
        import gymnasium_robotics

        gym.register_envs(gymnasium_robotics)
        return gym.make(spec.gym_id, continuing_task=True, reset_target=False, max_episode_steps=steps)
    return gym.make(spec.gym_id, max_episode_steps=steps)


def flat_observation(obs: Any) -> np.ndarray:
    """The state vector: PointMaze's ``observation`` entry ``(x, y, vx, vy)`` or the locomotion observation."""
    return np.asarray(obs["observation"] if isinstance(obs, dict) else obs, dtype=np.float32)


def normalized_score(spec: EnvSpec, returns: np.ndarray | float) -> np.ndarray:
    """D4RL normalised score ``100 (R - ref_min) / (ref_max - ref_min)``."""
    return 100.0 * (np.asarray(returns, dtype=np.float64) - spec.ref_min) / (spec.ref_max - spec.ref_min)
