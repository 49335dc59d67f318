"""Ornstein-Uhlenbeck variance-exploding process of SGMSE+ (Richter et al. 2023)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, PathCoefficients


class OUVEProcess(GaussianProcess):
    """OUVE path of SGMSE+: the mean drifts from ``x0`` to ``y``, the variance explodes.

    Forward SDE (Richter et al. 2023, eq. 4): ``dx = gamma (y - x) dt + g(t) dW`` with
    ``g(t) = sigma_min (sigma_max/sigma_min)^t sqrt(2 log(sigma_max/sigma_min))``. Its
    marginal (eqs. 5-7) has ``a = e^{-gamma t}``, ``b = 1 - e^{-gamma t}`` and, with
    ``L = log(sigma_max/sigma_min)``,

        s(t)^2 = int_0^t e^{-2 gamma (t-u)} g(u)^2 du
               = sigma_min^2 L (e^{2 L t} - e^{-2 gamma t}) / (gamma + L),

    identical to ``OUVESDE._std`` of the sgmse repository.

    Args:
        gamma: stiffness (sgmse's ``theta``), > 0.
        sigma_min: > 0.
        sigma_max: > sigma_min.
        t_min: smallest time evaluated (sgmse's ``t_eps = 0.03``); ``s(0) = 0``.
        T: terminal time.
    """

    def __init__(
        self,
        gamma: float = 1.5,
        sigma_min: float = 0.05,
        sigma_max: float = 0.5,
        t_min: float = 0.03,
        T: float = 1.0,
    ) -> None:
        if not gamma > 0:
            raise ValueError(f"OUVEProcess: gamma must be > 0, got {gamma}")
        if not 0 < sigma_min < sigma_max:
            raise ValueError(
                f"OUVEProcess: need 0 < sigma_min < sigma_max, got sigma_min={sigma_min}, sigma_max={sigma_max}"
            )
        if not 0 < t_min < T:
            raise ValueError(f"OUVEProcess: need 0 < t_min < T, got t_min={t_min}, T={T}")
        self.gamma, self.sigma_min, self.sigma_max = float(gamma), float(sigma_min), float(sigma_max)
        self.t_min, self.T = float(t_min), float(T)
        self._L = math.log(self.sigma_max / self.sigma_min)
        self._C = self.sigma_min**2 * self._L / (self.gamma + self._L)

    def coefficients(self, t: Tensor) -> PathCoefficients:
        t = torch.as_tensor(t)
        a = torch.exp(-self.gamma * t)
        up = torch.exp(2 * self._L * t)
        s2 = self._C * (up - a * a)
        s = torch.sqrt(s2)
        ds2 = self._C * (2 * self._L * up + 2 * self.gamma * a * a)
        da = -self.gamma * a
        return PathCoefficients(a=a, b=1.0 - a, s=s, da=da, db=-da, ds=ds2 / (2 * s))

    def __repr__(self) -> str:
        return (
            f"OUVEProcess(gamma={self.gamma}, sigma_min={self.sigma_min}, sigma_max={self.sigma_max}, "
            f"t_min={self.t_min}, T={self.T})"
        )
