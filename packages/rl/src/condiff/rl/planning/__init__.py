"""Planners: Trajectory Diffuser (proposal + short refinement) and the full-diffusion baseline."""

from condiff.rl.planning.planner import MODES, Plan, Planner
from condiff.rl.planning.replacement import ReplacementDenoiser

__all__ = ["MODES", "Plan", "Planner", "ReplacementDenoiser"]
