"""Diffusion posterior sampling (DPS, Chung et al. 2023) for ``y = A x0 + n``, ``n ~ N(0, sigma^2 I)``, as a denoiser.

The likelihood of the noisy state is approximated through the denoiser's estimate,

    p(y | x_t) ~= N(y; A x0_hat(x_t), v_t I),    v_t = sigma^2 + r_t^2,

and its gradient (taken through the denoiser) is added to the score:
``grad log p_t(x | y) = grad log p_t(x) - grad_x ||y - A x0_hat(x)||^2 / (2 v_t)``.
``r_t = 0`` is DPS's Gaussian likelihood (Chung et al. 2023, Thm. 1 and eq. 16, before the
step-size normalisation of their Algorithm 1); ``r_t^2 = c s^2 / (a^2 c + s^2)``, the posterior
variance of ``x0`` given ``x_t`` under an ``N(m, c I)`` prior, is the variance of PiGDM
(Song et al. 2023, eq. 8). With that prior and ``A A^T = I`` the guided score is exact, so the
sampler draws from the true posterior.
"""

from __future__ import annotations

import torch
from torch import Tensor

from condiff.core.guidance.common import coefficients, shift_score
from condiff.core.guidance.schedules import Schedule, weight_at
from condiff.core.inverse.operators import LinearOperator
from condiff.core.processes.base import GaussianProcess, expand_like
from condiff.core.sampling.denoiser import Denoiser


class DPS:
    """Posterior-sampling guidance for a linear measurement (module docstring).

    Args:
        denoiser: the unconditional denoiser (differentiable in ``x``).
        process: its path.
        operator: the measurement operator ``A``.
        measurement: ``y = A x0 + n``.
        sigma: measurement noise standard deviation.
        prior_var: ``c`` of the variance term ``r_t^2``; ``None`` or 0 for plain DPS (``r_t = 0``).
        scale: an extra weight on the likelihood gradient, a number or a schedule.
        y: the process condition, if any.
    """

    def __init__(
        self,
        denoiser: Denoiser,
        process: GaussianProcess,
        operator: LinearOperator,
        measurement: Tensor,
        sigma: float,
        prior_var: float | None = None,
        scale: Schedule = 1.0,
        y: Tensor | None = None,
    ) -> None:
        if sigma < 0 or (sigma == 0 and not prior_var):
            raise ValueError(f"DPS: need sigma > 0, or sigma = 0 with prior_var > 0; got {sigma}, {prior_var}")
        self.denoiser, self.process, self.operator, self.measurement = denoiser, process, operator, measurement
        self.sigma, self.prior_var, self.scale, self.y = float(sigma), float(prior_var or 0.0), scale, y

    def variance(self, x: Tensor, t: Tensor) -> Tensor:
        """``v_t = sigma^2 + r_t^2`` broadcast against ``x``."""
        a, _, s = coefficients(self.process, t, x)
        c = self.prior_var
        return self.sigma**2 + c * s * s / (a * a * c + s * s)

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            x0, eps = self.denoiser(xg, t)
            ax = self.operator(x0)
            r = self.measurement.to(device=ax.device, dtype=ax.dtype) - ax
            sq = (r.conj() * r).real if r.is_complex() else r * r
            (grad,) = torch.autograd.grad(0.5 * sq.sum(), xg)
        w = expand_like(weight_at(self.scale, t, self.process), x)
        return shift_score(self.process, x, t, x0.detach(), eps.detach(), -w * grad / self.variance(x, t), self.y)
