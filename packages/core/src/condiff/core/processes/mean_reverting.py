"""Mean-reverting SDE of IR-SDE (Luo et al. 2023, "Image Restoration with Mean-Reverting SDEs")."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, PathCoefficients

THETA_SCHEDULES = ("cosine", "linear", "constant")


class MeanRevertingProcess(GaussianProcess):
    """IR-SDE ``dx = theta(t) (y - x) dt + sigma(t) dW`` with ``sigma^2 = 2 lambda^2 theta`` (eq. 2-4).

    With ``thetabar(t) = int_0^t theta``: ``a = e^{-thetabar}``, ``b = 1 - a``,
    ``s = lambda sqrt(1 - e^{-2 thetabar})`` (eq. 4-6). ``theta`` has the shape of the
    chosen schedule and, as in the paper (and ``IRSDE`` of image-restoration-sde, which
    sets ``dt = -log(eps) / thetabar_T``), is scaled so that ``e^{-thetabar(T)} = end_value``.

    Schedule shapes on the unit interval (continuous versions of the repo's tables):
        ``cosine``: ``theta(u) = 1 - cos^2(c (u + s0)) / cos^2(c s0)``, ``c = pi / (2 (1 + s0))``, ``s0 = 0.008``.
        ``linear``: ``theta(u) = 1e-4 + (0.02 - 1e-4) u`` (the DDPM betas).
        ``constant``: ``theta(u) = 1``.

    Args:
        sigma_inf: stationary standard deviation ``lambda`` (the repo's ``max_sigma``), > 0.
        schedule: one of ``"cosine"``, ``"linear"``, ``"constant"``.
        end_value: ``e^{-thetabar(T)}``, in ``(0, 1)`` (the repo's ``eps``, 0.01).
        t_min: smallest time evaluated (``s(0) = 0``).
        T: terminal time.
    """

    def __init__(
        self,
        sigma_inf: float = 50.0 / 255.0,
        schedule: str = "cosine",
        end_value: float = 0.01,
        t_min: float = 1e-3,
        T: float = 1.0,
    ) -> None:
        if not sigma_inf > 0:
            raise ValueError(f"MeanRevertingProcess: sigma_inf must be > 0, got {sigma_inf}")
        if schedule not in THETA_SCHEDULES:
            raise ValueError(f"MeanRevertingProcess: schedule must be one of {THETA_SCHEDULES}, got {schedule!r}")
        if not 0 < end_value < 1:
            raise ValueError(f"MeanRevertingProcess: end_value must lie in (0, 1), got {end_value}")
        if not 0 < t_min < T:
            raise ValueError(f"MeanRevertingProcess: need 0 < t_min < T, got t_min={t_min}, T={T}")
        self.sigma_inf, self.schedule, self.end_value = float(sigma_inf), schedule, float(end_value)
        self.t_min, self.T = float(t_min), float(T)
        self._s0 = 0.008
        self._c = math.pi / (2 * (1 + self._s0))
        self._scale = -math.log(self.end_value) / float(self._shape_integral(torch.tensor(1.0, dtype=torch.float64)))

    def _shape(self, u: Tensor) -> Tensor:
        if self.schedule == "constant":
            return torch.ones_like(u)
        if self.schedule == "linear":
            return 1e-4 + (0.02 - 1e-4) * u
        return 1.0 - torch.cos(self._c * (u + self._s0)) ** 2 / math.cos(self._c * self._s0) ** 2

    def _shape_integral(self, u: Tensor) -> Tensor:
        if self.schedule == "constant":
            return u
        if self.schedule == "linear":
            return 1e-4 * u + 0.5 * (0.02 - 1e-4) * u**2
        c, s0 = self._c, self._s0
        cos2_int = 0.5 * u + (torch.sin(2 * c * (u + s0)) - math.sin(2 * c * s0)) / (4 * c)
        return u - cos2_int / math.cos(c * s0) ** 2

    def theta(self, t: Tensor) -> Tensor:
        """Mean-reversion rate ``theta(t)``."""
        t = torch.as_tensor(t)
        return self._scale / self.T * self._shape(t / self.T)

    def theta_bar(self, t: Tensor) -> Tensor:
        """``thetabar(t) = int_0^t theta``, with ``thetabar(T) = -log(end_value)``."""
        t = torch.as_tensor(t)
        return self._scale * self._shape_integral(t / self.T)

    def coefficients(self, t: Tensor) -> PathCoefficients:
        t = torch.as_tensor(t)
        tb, th = self.theta_bar(t), self.theta(t)
        a = torch.exp(-tb)
        s = self.sigma_inf * torch.sqrt(-torch.expm1(-2 * tb))
        da = -th * a
        return PathCoefficients(a=a, b=1.0 - a, s=s, da=da, db=-da, ds=self.sigma_inf**2 * th * a * a / s)

    def log_snr(self, t: Tensor) -> Tensor:
        tb = self.theta_bar(torch.as_tensor(t))
        return -tb - math.log(self.sigma_inf) - 0.5 * torch.log(-torch.expm1(-2 * tb))

    def t_from_log_snr(self, lam: Tensor, iters: int = 100) -> Tensor:
        """``e^{-2 thetabar} = sigmoid(2 lam + 2 log lambda)``; closed form in ``t`` except for the cosine shape."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        if self.schedule == "cosine":
            return super().t_from_log_snr(lam, iters)
        tb = 0.5 * torch.nn.functional.softplus(-2.0 * (lam + math.log(self.sigma_inf)))
        q = tb / self._scale  # shape integral at u = t / T
        if self.schedule == "constant":
            return q * self.T
        b0, b1 = 1e-4, 0.5 * (0.02 - 1e-4)
        return self.T * 2 * q / (b0 + torch.sqrt(b0 * b0 + 4 * b1 * q))

    def __repr__(self) -> str:
        return (
            f"MeanRevertingProcess(sigma_inf={self.sigma_inf}, schedule={self.schedule!r}, "
            f"end_value={self.end_value}, t_min={self.t_min}, T={self.T})"
        )
