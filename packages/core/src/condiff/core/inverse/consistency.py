"""Data consistency: project the denoiser's estimate onto the measurements, ``x0 <- x0 + A^+ (y - A x0)``.

For noiseless linear measurements ``y = A x0`` this is the range-null-space projection of DDNM
(Wang et al. 2023, eq. 9: ``x0 = A^+ y + (I - A^+ A) x0_hat``); with ``weight < 1`` it is a relaxed
step toward the measurement set (noisy measurements). The noise estimate is recomputed from the
state, ``eps = (x - a x0 - b y) / s``, so every solver (data or noise prediction, ODE or SDE)
uses the projected estimate.
"""

from __future__ import annotations

from torch import Tensor

from condiff.core.guidance.common import eps_from_x0
from condiff.core.inverse.operators import LinearOperator
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser


class DataConsistency:
    """Project ``x0_hat`` onto ``{x : A x = measurement}`` at every denoiser call (module docstring).

    Args:
        denoiser: the unconditional denoiser.
        process: its path.
        operator: ``A`` (its :meth:`~LinearOperator.pinv` is used).
        measurement: ``y = A x0``.
        weight: step length in ``(0, 1]``; 1 is the exact projection.
        y: the process condition, if any.
    """

    def __init__(
        self,
        denoiser: Denoiser,
        process: GaussianProcess,
        operator: LinearOperator,
        measurement: Tensor,
        weight: float = 1.0,
        y: Tensor | None = None,
    ) -> None:
        if not 0.0 < weight <= 1.0:
            raise ValueError(f"DataConsistency: weight must lie in (0, 1], got {weight}")
        self.denoiser, self.process, self.operator, self.measurement = denoiser, process, operator, measurement
        self.weight, self.y = float(weight), y

    def project(self, x0: Tensor) -> Tensor:
        """``x0 + weight A^+ (y - A x0)``."""
        ax = self.operator(x0)
        residual = self.measurement.to(device=ax.device, dtype=ax.dtype) - ax
        return x0 + self.weight * self.operator.pinv(residual).to(x0.dtype)

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        x0, _ = self.denoiser(x, t)
        x0 = self.project(x0.to(x.dtype))
        return x0, eps_from_x0(self.process, x, t, x0, self.y)
