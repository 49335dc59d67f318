"""Variance-exploding process (NCSN / score-SDE VE)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, PathCoefficients


class VEProcess(GaussianProcess):
    """VE path ``x_t = x0 + sigma(t) eps`` with geometric ``sigma(t) = sigma_min (sigma_max / sigma_min)^t``.

    Score-SDE eq. (9)/(30) (Song et al. 2021); ``a = 1``, ``b = 0``, ``s = sigma(t)`` and
    ``g^2 = d sigma^2 / dt = 2 sigma^2 log(sigma_max / sigma_min)``. As in the score-SDE
    code the marginal standard deviation is ``sigma(t)`` itself (the ``sigma_min`` offset
    at ``t = 0`` is kept rather than subtracted).

    Args:
        sigma_min: ``sigma(0)``, > 0.
        sigma_max: ``sigma(1)``, > sigma_min.
        t_min: smallest time evaluated.
        T: terminal time.
    """

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 50.0, t_min: float = 1e-5, T: float = 1.0) -> None:
        if not 0 < sigma_min < sigma_max:
            raise ValueError(
                f"VEProcess: need 0 < sigma_min < sigma_max, got sigma_min={sigma_min}, sigma_max={sigma_max}"
            )
        if not 0 <= t_min < T:
            raise ValueError(f"VEProcess: need 0 <= t_min < T, got t_min={t_min}, T={T}")
        self.sigma_min, self.sigma_max = float(sigma_min), float(sigma_max)
        self.t_min, self.T = float(t_min), float(T)
        self._log_ratio = math.log(self.sigma_max / self.sigma_min)

    def coefficients(self, t: Tensor) -> PathCoefficients:
        t = torch.as_tensor(t)
        s = self.sigma_min * torch.exp(self._log_ratio * t)
        one, zero = torch.ones_like(s), torch.zeros_like(s)
        return PathCoefficients(a=one, b=zero, s=s, da=zero, db=zero, ds=self._log_ratio * s)

    def log_snr(self, t: Tensor) -> Tensor:
        return -(math.log(self.sigma_min) + self._log_ratio * torch.as_tensor(t))

    def t_from_log_snr(self, lam: Tensor, iters: int = 100) -> Tensor:
        """Closed form: ``t = (-lam - log sigma_min) / log(sigma_max / sigma_min)``."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        return (-lam - math.log(self.sigma_min)) / self._log_ratio

    def __repr__(self) -> str:
        return f"VEProcess(sigma_min={self.sigma_min}, sigma_max={self.sigma_max}, t_min={self.t_min}, T={self.T})"
