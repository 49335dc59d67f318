"""Seeded episodes of a batch policy in lock-stepped environments: returns, successes, trajectories."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from condiff.rl.envs.make import env_spec, flat_observation, make_env, normalized_score
from condiff.rl.envs.maze import MazeGeometry
from condiff.rl.evaluation.policies import Policy

SUCCESS_RADIUS = 0.45  # gymnasium-robotics PointMaze's success distance


@dataclass
class RolloutResult:
    """Per-episode ``returns``, ``success`` (goal reached, mazes), D4RL ``scores``, states, goals; ``ms_per_step`` is
    the mean wall time of one policy call, which acts for all running episodes at once."""

    returns: np.ndarray
    success: np.ndarray
    scores: np.ndarray
    trajectories: list[np.ndarray]
    goals: np.ndarray | None
    ms_per_step: float
    steps: int = 0

    def summary(self) -> dict[str, float]:
        return {
            "return_mean": float(self.returns.mean()),
            "score_mean": float(self.scores.mean()),
            "score_sem": float(self.scores.std(ddof=1) / np.sqrt(len(self.scores))) if len(self.scores) > 1 else 0.0,
            "success_rate": float(self.success.mean()),
            "ms_per_step": self.ms_per_step,
            "episodes": float(len(self.returns)),
        }


def maze_pairs(
    geometry: MazeGeometry, num: int, seed: int, min_hops: int = 2
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """``num`` seeded (start cell, goal cell) pairs at least ``min_hops`` cells apart along the maze."""
    rng = np.random.default_rng(seed)
    cells = geometry.free_cells
    pairs: list[tuple[tuple[int, int], tuple[int, int]]] = []
    while len(pairs) < num:
        a, b = cells[rng.integers(len(cells))], cells[rng.integers(len(cells))]
        if len(geometry.shortest_path(a, b)) - 1 >= min_hops:
            pairs.append((a, b))
    return pairs


def rollout(
    env_name: str,
    policy: Policy,
    episodes: int,
    seed: int,
    max_steps: int | None = None,
    stop_when_all_succeed: bool = False,
) -> RolloutResult:
    """Run ``episodes`` seeded episodes side by side, the policy acting on all of them at once.

    Mazes start and aim at the cells of :func:`maze_pairs` (``seed``), with gymnasium-robotics' position
    noise; the return is the sum of the environment's rewards. ``stop_when_all_succeed`` ends early once
    every maze episode reached its goal (for success rates; returns then cover fewer steps).
    """
    spec = env_spec(env_name)
    steps = max_steps or spec.max_episode_steps
    envs = [make_env(env_name, max_episode_steps=steps) for _ in range(episodes)]
    pairs = maze_pairs(MazeGeometry(spec.maze), episodes, seed) if spec.maze else None
    obs, goals = [], []
    for i, env in enumerate(envs):
        options = {"reset_cell": pairs[i][0], "goal_cell": pairs[i][1]} if pairs else None
        o, _ = env.reset(seed=seed * 1000 + i, options=options)
        obs.append(flat_observation(o))
        if pairs:
            goals.append(np.asarray(o["desired_goal"], dtype=np.float32))
    goal_arr = np.stack(goals) if goals else None
    returns, success = np.zeros(episodes), np.zeros(episodes, dtype=bool)
    done = np.zeros(episodes, dtype=bool)
    trajs: list[list[np.ndarray]] = [[o] for o in obs]
    policy.reset(episodes)
    state = np.stack(obs)
    taken = 0
    for _ in range(steps):
        active = np.nonzero(~done)[0]
        if len(active) == 0 or (stop_when_all_succeed and success.all()):
            break
        taken += 1
        actions = policy(state[active], None if goal_arr is None else goal_arr[active])
        for j, i in enumerate(active.tolist()):
            o, r, term, trunc, _ = envs[i].step(actions[j])
            s = flat_observation(o)
            returns[i] += float(r)
            trajs[i].append(s)
            state[i] = s
            if goal_arr is not None and np.linalg.norm(s[:2] - goal_arr[i]) <= SUCCESS_RADIUS:
                success[i] = True
            done[i] = bool(term or trunc)
    for env in envs:
        env.close()
    seconds = getattr(policy, "seconds", [])
    calls = max(1, sum(1 for _ in seconds))
    ms = 1000.0 * float(np.sum(seconds)) / calls if seconds else float("nan")
    return RolloutResult(
        returns=returns,
        success=success,
        scores=normalized_score(spec, returns),
        trajectories=[np.stack(tr) for tr in trajs],
        goals=goal_arr,
        ms_per_step=ms,
        steps=taken,
    )
