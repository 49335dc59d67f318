"""Inverse problems ``y = A x0 + n`` solved with an unconditional denoiser and a :class:`LinearOperator`.

* operators: :class:`Mask`, :class:`Blur`, :class:`Downsample`, :class:`MaskedFourier`, :class:`Radon`,
  :class:`MatrixOperator` (forward, adjoint, pseudo-inverse);
* :func:`red_diff` (RED-Diff), :class:`DPS` (posterior sampling through ``x0_hat``) and
  :class:`DataConsistency` (projection onto the measurements), the last two as denoiser wrappers
  for any solver of :func:`condiff.core.sampling.sample`.
"""

from condiff.core.inverse.consistency import DataConsistency
from condiff.core.inverse.dps import DPS
from condiff.core.inverse.operators import (
    Blur,
    Downsample,
    LinearOperator,
    Mask,
    MaskedFourier,
    MatrixOperator,
    Radon,
    gaussian_kernel,
    inner,
)
from condiff.core.inverse.red_diff import RedDiffResult, red_diff

__all__ = [
    "DPS",
    "Blur",
    "DataConsistency",
    "Downsample",
    "LinearOperator",
    "Mask",
    "MaskedFourier",
    "MatrixOperator",
    "Radon",
    "RedDiffResult",
    "gaussian_kernel",
    "inner",
    "red_diff",
]
