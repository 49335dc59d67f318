"""Rollouts in the environment, D4RL normalised scores, planning time per action, trajectory plots."""

from condiff.rl.evaluation.policies import BehaviourPolicy, PlannerPolicy, Policy, RandomPolicy
from condiff.rl.evaluation.rollout import RolloutResult, maze_pairs, rollout

__all__ = ["BehaviourPolicy", "PlannerPolicy", "Policy", "RandomPolicy", "RolloutResult", "maze_pairs", "rollout"]
