"""Environments: gymnasium-robotics PointMaze and gymnasium MuJoCo locomotion, with their offline-data helpers."""

from condiff.rl.envs.make import ENVIRONMENTS, EnvSpec, make_env
from condiff.rl.envs.maze import MazeGeometry, WaypointController

__all__ = ["ENVIRONMENTS", "EnvSpec", "MazeGeometry", "WaypointController", "make_env"]
