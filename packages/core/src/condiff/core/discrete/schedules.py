"""Masking schedules ``alpha(t)`` of absorbing-state diffusion (MDLM, Sahoo et al. 2024, §3; MD4, Shi et al. 2024, §2).

``alpha(t)`` is the probability that a token is still unmasked at time ``t`` (data at ``t = 0``, all-mask at
``t = 1``): ``q(z_t^l = x^l | x) = alpha(t)``, ``q(z_t^l = m | x) = 1 - alpha(t)`` (eq. D1 of docs/discrete.md).
Every schedule is strictly decreasing with ``alpha(0) = 1``; ``alpha(1)`` is 0 or a small ``eps``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch

from condiff.core.errors import ConfigError

__all__ = ["CosineSchedule", "GeometricSchedule", "LinearSchedule", "LogLinearSchedule", "MaskSchedule"]


class MaskSchedule(ABC):
    """A masking schedule: ``alpha(t)`` and its derivative ``alpha'(t)`` for ``t in [0, 1]``."""

    @abstractmethod
    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        """Probability ``alpha(t)`` that a token is unmasked at time ``t``."""

    @abstractmethod
    def dalpha(self, t: torch.Tensor) -> torch.Tensor:
        """Time derivative ``alpha'(t)`` (negative)."""

    def weight(self, t: torch.Tensor) -> torch.Tensor:
        """NELBO weight ``alpha'(t) / (1 - alpha(t))`` of eq. D4 (negative)."""
        return self.dalpha(t) / (1.0 - self.alpha(t))


class LogLinearSchedule(MaskSchedule):
    """``alpha(t) = 1 - (1 - eps) t`` (MDLM's log-linear schedule: total noise ``sigma(t) = -log alpha(t)``).

    Args:
        eps: ``alpha(1)``; 0 gives the linear schedule ``alpha = 1 - t`` (MD4).
    """

    def __init__(self, eps: float = 1e-3) -> None:
        if not 0.0 <= eps < 1.0:
            raise ConfigError(f"LogLinearSchedule: eps must be in [0, 1), got {eps}")
        self.eps = eps

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        return 1.0 - (1.0 - self.eps) * t

    def dalpha(self, t: torch.Tensor) -> torch.Tensor:
        return torch.full_like(t, -(1.0 - self.eps))


class LinearSchedule(LogLinearSchedule):
    """``alpha(t) = 1 - t`` (MD4's linear schedule)."""

    def __init__(self) -> None:
        super().__init__(eps=0.0)


class CosineSchedule(MaskSchedule):
    """``alpha(t) = 1 - cos(pi/2 (1 - t))`` (MD4 eq. 5, cosine), ``alpha'(t) = -pi/2 sin(pi/2 (1 - t))``."""

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        return 1.0 - torch.cos(0.5 * math.pi * (1.0 - t))

    def dalpha(self, t: torch.Tensor) -> torch.Tensor:
        return -0.5 * math.pi * torch.sin(0.5 * math.pi * (1.0 - t))


class GeometricSchedule(MaskSchedule):
    """``alpha(t) = exp(-sigma(t))``, ``sigma(t) = sigma_min^(1-t) sigma_max^t`` (MDLM's geometric noise).

    ``alpha(0) = exp(-sigma_min)`` is close to but below 1, ``alpha(1) = exp(-sigma_max)`` close to 0.

    Args:
        sigma_min: total noise at ``t = 0``.
        sigma_max: total noise at ``t = 1``.
    """

    def __init__(self, sigma_min: float = 1e-4, sigma_max: float = 20.0) -> None:
        if not 0.0 < sigma_min < sigma_max:
            raise ConfigError(f"GeometricSchedule: need 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
        self.sigma_min = sigma_min
        self.sigma_max = sigma_max

    def _sigma(self, t: torch.Tensor) -> torch.Tensor:
        return self.sigma_min ** (1.0 - t) * self.sigma_max**t

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        return torch.exp(-self._sigma(t))

    def dalpha(self, t: torch.Tensor) -> torch.Tensor:
        sigma = self._sigma(t)
        return -torch.exp(-sigma) * sigma * math.log(self.sigma_max / self.sigma_min)
