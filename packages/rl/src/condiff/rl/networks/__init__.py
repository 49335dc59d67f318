"""Networks of the planner: temporal UNet (diffusion), causal transformer (proposals), inverse dynamics, critic."""

from condiff.rl.networks.mlp import InverseDynamics, PlanCritic
from condiff.rl.networks.temporal_unet import TemporalUNet
from condiff.rl.networks.transformer import CausalStateTransformer

__all__ = ["CausalStateTransformer", "InverseDynamics", "PlanCritic", "TemporalUNet"]
