"""Policies that act on a batch of environments: the planner and the two reference policies."""

from __future__ import annotations

import time
from typing import Protocol

import numpy as np
import torch

from condiff.rl.envs.maze import MazeGeometry, WaypointController
from condiff.rl.planning import Planner


class Policy(Protocol):
    """``(states (N, D), goals (N, 2) or None) -> actions (N, A)``; ``reset(n)`` starts ``n`` episodes."""

    def reset(self, n: int) -> None: ...

    def __call__(self, states: np.ndarray, goals: np.ndarray | None) -> np.ndarray: ...


class PlannerPolicy:
    """Replan at every step with a :class:`Planner`; records the planning seconds of every call."""

    def __init__(self, planner: Planner, seed: int = 0) -> None:
        self.planner, self.seed = planner, seed
        self.seconds: list[float] = []
        self.last_plans: np.ndarray | None = None

    def reset(self, n: int) -> None:
        self.generator = torch.Generator().manual_seed(self.seed)

    def __call__(self, states: np.ndarray, goals: np.ndarray | None) -> np.ndarray:
        plan = self.planner.plan(states, goals, self.generator)
        self.seconds.append(plan.seconds)
        self.last_plans = plan.states
        return plan.actions


class RandomPolicy:
    """Uniform random actions in ``[-1, 1]^A``."""

    def __init__(self, action_dim: int, seed: int = 0) -> None:
        self.action_dim, self.seed = action_dim, seed
        self.seconds: list[float] = []

    def reset(self, n: int) -> None:
        self.rng = np.random.default_rng(self.seed)

    def __call__(self, states: np.ndarray, goals: np.ndarray | None) -> np.ndarray:
        return self.rng.uniform(-1, 1, size=(len(states), self.action_dim)).astype(np.float32)


class BehaviourPolicy:
    """The maze data's own behaviour: the noisy waypoint controller pursuing its own random goals, switched
    when reached, blind to the evaluation goal. Its success rate is the behaviour data's average."""

    def __init__(self, geometry: MazeGeometry, noise: float = 0.3, seed: int = 0) -> None:
        self.geometry, self.controller, self.seed = geometry, WaypointController(geometry, noise=noise), seed
        self.seconds: list[float] = []

    def _goal(self) -> np.ndarray:
        cell = self.geometry.free_cells[self.rng.integers(len(self.geometry.free_cells))]
        return self.geometry.cell_to_xy(cell) + self.rng.uniform(-0.25, 0.25, size=2)

    def reset(self, n: int) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.own_goals = [self._goal() for _ in range(n)]

    def __call__(self, states: np.ndarray, goals: np.ndarray | None) -> np.ndarray:
        start = time.perf_counter()
        out = []
        for i, s in enumerate(states):
            if np.linalg.norm(s[:2] - self.own_goals[i]) <= 0.5:
                self.own_goals[i] = self._goal()
            out.append(self.controller(s, self.own_goals[i], self.rng))
        self.seconds.append(time.perf_counter() - start)
        return np.stack(out)
