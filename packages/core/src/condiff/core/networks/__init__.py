"""Denoiser backbones shipped with the core."""

from condiff.core.networks.mlp import ConditionalMLP
from condiff.core.networks.unet import ConditionalUNet

__all__ = ["ConditionalMLP", "ConditionalUNet"]
