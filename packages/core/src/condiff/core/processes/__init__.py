"""Diffusion processes: conditional Gaussian paths ``x_t = a x0 + b y + s eps``."""

from condiff.core.processes.base import GaussianProcess, PathCoefficients, expand_like
from condiff.core.processes.bridges import BrownianBridgeProcess, ConsecutiveBrownianBridge, SBVEProcess
from condiff.core.processes.interpolants import CondOTProcess, OneSidedInterpolant, StochasticInterpolant
from condiff.core.processes.mean_reverting import MeanRevertingProcess
from condiff.core.processes.ouve import OUVEProcess
from condiff.core.processes.product import ProductProcess, ProjectedProcess, ZeroCenterOfMass
from condiff.core.processes.residual import ResidualProcess
from condiff.core.processes.ve import VEProcess
from condiff.core.processes.vp import DiscreteVPProcess, SubVPProcess, VPProcess

__all__ = [
    "BrownianBridgeProcess",
    "CondOTProcess",
    "ConsecutiveBrownianBridge",
    "DiscreteVPProcess",
    "GaussianProcess",
    "MeanRevertingProcess",
    "OUVEProcess",
    "OneSidedInterpolant",
    "PathCoefficients",
    "ProductProcess",
    "ProjectedProcess",
    "ResidualProcess",
    "SBVEProcess",
    "StochasticInterpolant",
    "SubVPProcess",
    "VEProcess",
    "VPProcess",
    "ZeroCenterOfMass",
    "expand_like",
]
