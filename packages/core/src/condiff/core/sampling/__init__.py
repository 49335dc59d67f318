"""Samplers: one entry point :func:`sample` over any process and denoiser."""

from condiff.core.sampling.denoiser import Denoiser, ModelDenoiser
from condiff.core.sampling.grids import time_grid
from condiff.core.sampling.solvers import METHODS, sample
from condiff.core.sampling.types import Samples

__all__ = ["METHODS", "Denoiser", "ModelDenoiser", "Samples", "sample", "time_grid"]
