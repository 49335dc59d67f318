"""End to end: a small planner trained on built-in PointMaze data reaches held-out goals; inverse dynamics."""

from __future__ import annotations

import numpy as np
import torch

from condiff.rl.envs.maze import MazeGeometry
from condiff.rl.evaluation import BehaviourPolicy, PlannerPolicy, RandomPolicy, rollout
from condiff.rl.evaluation.evaluator import build_planner
from condiff.rl.training import helper_tensors

EPISODES = 20
MAX_STEPS = 100  # the noisy waypoint controller needs up to ~120 steps between the U-maze's far ends
EVAL_SEED = 777  # start/goal cells and reset noise disjoint from the data generator's seed 0


def test_trajectory_diffuser_reaches_held_out_goals_more_often_than_behaviour_and_random(trained_planner) -> None:
    tp = trained_planner
    planner = build_planner(tp.dm, tp.network, tp.process, "eps", tp.models, {"mode": "trajectory_diffuser"})
    ours = rollout("pointmaze_umaze", PlannerPolicy(planner, 0), EPISODES, EVAL_SEED, MAX_STEPS, True)
    behaviour = rollout(
        "pointmaze_umaze", BehaviourPolicy(MazeGeometry("umaze"), seed=0), EPISODES, EVAL_SEED, MAX_STEPS
    )
    random = rollout("pointmaze_umaze", RandomPolicy(2, seed=0), EPISODES, EVAL_SEED, MAX_STEPS)
    rates = {k: float(r.success.mean()) for k, r in (("planner", ours), ("behaviour", behaviour), ("random", random))}
    print(f"success within {MAX_STEPS} steps over {EPISODES} held-out pairs: {rates}")
    assert rates["planner"] >= rates["behaviour"] + 0.15, rates
    assert rates["planner"] >= rates["random"] + 0.3, rates


def test_inverse_dynamics_recovers_held_out_actions(trained_planner) -> None:
    tp = trained_planner
    s, s_next, a = helper_tensors(tp.dm, "val")["inverse_dynamics"]
    with torch.no_grad():
        pred = tp.models.inverse_dynamics(s, s_next)
    mse = float(((pred - a) ** 2).mean())
    baseline = float(((a - helper_tensors(tp.dm)["inverse_dynamics"][2].mean(0)) ** 2).mean())  # train-mean action
    r2 = 1 - mse / baseline
    print(f"held-out inverse dynamics: MSE {mse:.4f} vs mean-action baseline {baseline:.4f} (R^2 {r2:.3f})")
    assert r2 >= 0.7, (mse, baseline)
    assert np.isfinite(mse)
