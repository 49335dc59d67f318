"""Stochastic interpolants (Albergo, Boffi & Vanden-Eijnden 2023) and the flow-matching conditional-OT path.

Time runs as everywhere in condiff: data ``x0`` at ``t = 0``, the other end (``y`` or
pure noise) at ``t = 1``. Albergo et al. put data at ``t = 1``; their
``I(t, x0, x1) = alpha(t) x0 + beta(t) x1`` maps to ours by ``t -> 1 - t``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, PathCoefficients

INTERPOLANT_PATHS = ("linear", "trig")
LATENT_SHAPES = ("brownian", "quadratic")
ONE_SIDED_PATHS = ("linear", "trig", "vp")


def _check_range(name: str, t_min: float, T: float) -> None:
    if not 0 < t_min < T <= 1.0:
        raise ValueError(f"{name}: need 0 < t_min < T <= 1, got t_min={t_min}, T={T}")


class _DiffusionLevel:
    """Holds the tunable diffusion level ``eps(t) >= 0`` of the interpolant SDEs."""

    def __init__(self, name: str, epsilon: float | Callable[[Tensor], Tensor]) -> None:
        if not callable(epsilon) and not epsilon >= 0:
            raise ValueError(f"{name}: epsilon must be >= 0 or a callable, got {epsilon}")
        self._epsilon = epsilon

    def diffusion_level(self, t: Tensor) -> Tensor:
        """Diffusion level ``eps(t)`` of the SDE form (Albergo et al. 2023, eqs. 2.32-2.33).

        Generate backward in time with ``dx = [v - eps(t) score] dt + sqrt(2 eps(t)) dW``,
        i.e. :meth:`GaussianProcess.reverse_drift` with ``level=eps(t)``; ``eps = 0`` is the
        probability-flow ODE. Every ``eps(t) >= 0`` has the same time marginals.
        """
        t = torch.as_tensor(t)
        if callable(self._epsilon):
            return torch.as_tensor(self._epsilon(t), dtype=t.dtype, device=t.device)
        return torch.full_like(t, float(self._epsilon))


class StochasticInterpolant(_DiffusionLevel, GaussianProcess):
    """Two-sided stochastic interpolant ``x_t = a(t) x0 + b(t) y + gamma(t) z`` (Albergo et al. 2023, eq. 2.1).

    ``y`` is a sample of the other density (or the condition). Paths:
        ``linear``: ``a = 1 - t``, ``b = t``.
        ``trig``: ``a = cos(pi t / 2)``, ``b = sin(pi t / 2)`` (VP-like, ``a^2 + b^2 = 1``).
    Latent ``gamma`` (vanishing at both ends):
        ``brownian``: ``gamma = scale sqrt(t (1 - t))`` (linear + brownian is the Brownian bridge).
        ``quadratic``: ``gamma = scale t (1 - t)``.

    Args:
        path: ``"linear"`` or ``"trig"``.
        gamma: ``"brownian"`` or ``"quadratic"``.
        gamma_scale: amplitude of ``gamma``, > 0.
        epsilon: diffusion level ``eps(t)`` (constant or callable) for the SDE form.
        t_min: smallest time evaluated (``gamma(0) = 0``).
        T: terminal time, at most 1.
    """

    def __init__(
        self,
        path: str = "linear",
        gamma: str = "brownian",
        gamma_scale: float = 1.0,
        epsilon: float | Callable[[Tensor], Tensor] = 1.0,
        t_min: float = 1e-3,
        T: float = 1.0,
    ) -> None:
        if path not in INTERPOLANT_PATHS:
            raise ValueError(f"StochasticInterpolant: path must be one of {INTERPOLANT_PATHS}, got {path!r}")
        if gamma not in LATENT_SHAPES:
            raise ValueError(f"StochasticInterpolant: gamma must be one of {LATENT_SHAPES}, got {gamma!r}")
        if not gamma_scale > 0:
            raise ValueError(f"StochasticInterpolant: gamma_scale must be > 0, got {gamma_scale}")
        _check_range("StochasticInterpolant", t_min, T)
        _DiffusionLevel.__init__(self, "StochasticInterpolant", epsilon)
        self.path, self.gamma, self.gamma_scale = path, gamma, float(gamma_scale)
        self.t_min, self.T = float(t_min), float(T)

    def coefficients(self, t: Tensor) -> PathCoefficients:
        t = torch.as_tensor(t)
        if self.path == "linear":
            a, b = 1.0 - t, t
            da, db = -torch.ones_like(t), torch.ones_like(t)
        else:
            h = 0.5 * math.pi
            a, b = torch.cos(h * t), torch.sin(h * t)
            da, db = -h * b, h * a
        q, dq = t * (1.0 - t), 1.0 - 2.0 * t
        if self.gamma == "brownian":
            s = self.gamma_scale * torch.sqrt(q)
            ds = self.gamma_scale**2 * dq / (2 * s)
        else:
            s, ds = self.gamma_scale * q, self.gamma_scale * dq
        return PathCoefficients(a=a, b=b, s=s, da=da, db=db, ds=ds)

    def __repr__(self) -> str:
        return (
            f"StochasticInterpolant(path={self.path!r}, gamma={self.gamma!r}, gamma_scale={self.gamma_scale}, "
            f"t_min={self.t_min}, T={self.T})"
        )


class OneSidedInterpolant(_DiffusionLevel, GaussianProcess):
    """One-sided interpolant ``x_t = a(t) x0 + s(t) z`` from data to a Gaussian (Albergo et al. 2023, Sec. 3.3).

    Paths (``b = 0``):
        ``linear``: ``a = 1 - t``, ``s = t`` (rectified flow).
        ``trig``: ``a = cos(pi t / 2)``, ``s = sin(pi t / 2)``.
        ``vp``: ``a = 1 - t``, ``s = sqrt(1 - (1 - t)^2)`` (their score-based-diffusion-like
            ``alpha = sqrt(1 - t^2)``, ``beta = t`` in our time direction).

    Args:
        path: one of ``"linear"``, ``"trig"``, ``"vp"``.
        epsilon: diffusion level ``eps(t)`` for the SDE form.
        t_min: smallest time evaluated (``s(0) = 0``).
        T: terminal time, at most 1.
    """

    def __init__(
        self,
        path: str = "linear",
        epsilon: float | Callable[[Tensor], Tensor] = 1.0,
        t_min: float = 1e-3,
        T: float = 1.0,
    ) -> None:
        if path not in ONE_SIDED_PATHS:
            raise ValueError(f"OneSidedInterpolant: path must be one of {ONE_SIDED_PATHS}, got {path!r}")
        _check_range("OneSidedInterpolant", t_min, T)
        _DiffusionLevel.__init__(self, "OneSidedInterpolant", epsilon)
        self.path, self.t_min, self.T = path, float(t_min), float(T)

    def coefficients(self, t: Tensor) -> PathCoefficients:
        t = torch.as_tensor(t)
        zero, one = torch.zeros_like(t), torch.ones_like(t)
        if self.path == "linear":
            a, s, da, ds = 1.0 - t, t, -one, one
        elif self.path == "trig":
            h = 0.5 * math.pi
            a, s = torch.cos(h * t), torch.sin(h * t)
            da, ds = -h * s, h * a
        else:
            a, da = 1.0 - t, -one
            s = torch.sqrt(t * (2.0 - t))
            ds = (1.0 - t) / s
        return PathCoefficients(a=a, b=zero, s=s, da=da, db=zero, ds=ds)

    def __repr__(self) -> str:
        return f"OneSidedInterpolant(path={self.path!r}, t_min={self.t_min}, T={self.T})"


class CondOTProcess(GaussianProcess):
    """Flow matching's conditional optimal-transport path (Lipman et al. 2023, eq. 20), data at ``t = 0``.

    Lipman's ``psi_t(x) = (1 - (1 - sigma_min) t) x + t x1`` with data ``x1`` at ``t = 1``
    becomes, under ``t -> 1 - t``: ``a = 1 - t``, ``b = 0``, ``s = sigma_min + (1 - sigma_min) t``.
    ``s(0) = sigma_min > 0``, so ``t_min = 0`` is allowed.

    Args:
        sigma_min: noise left at the data end, in ``[0, 1)``; with 0, ``t_min`` must be > 0.
        t_min: smallest time evaluated.
        T: terminal time, at most 1 (``a(1) = 0``).
    """

    def __init__(self, sigma_min: float = 1e-4, t_min: float = 0.0, T: float = 1.0) -> None:
        if not 0 <= sigma_min < 1:
            raise ValueError(f"CondOTProcess: sigma_min must lie in [0, 1), got {sigma_min}")
        if not 0 <= t_min < T <= 1.0:
            raise ValueError(f"CondOTProcess: need 0 <= t_min < T <= 1, got t_min={t_min}, T={T}")
        if sigma_min == 0 and t_min == 0:
            raise ValueError("CondOTProcess: with sigma_min = 0 the path has s(0) = 0; give t_min > 0")
        self.sigma_min, self.t_min, self.T = float(sigma_min), float(t_min), float(T)

    def coefficients(self, t: Tensor) -> PathCoefficients:
        t = torch.as_tensor(t)
        one, zero = torch.ones_like(t), torch.zeros_like(t)
        k = 1.0 - self.sigma_min
        return PathCoefficients(a=1.0 - t, b=zero, s=self.sigma_min + k * t, da=-one, db=zero, ds=k * one)

    def log_snr(self, t: Tensor) -> Tensor:
        t = torch.as_tensor(t)
        return torch.log1p(-t) - torch.log(self.sigma_min + (1.0 - self.sigma_min) * t)

    def t_from_log_snr(self, lam: Tensor, iters: int = 100) -> Tensor:
        """Closed form: ``(1 - t) = e^lam (sigma_min + (1 - sigma_min) t)``."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        e = torch.exp(lam)
        return (1.0 - e * self.sigma_min) / (1.0 + e * (1.0 - self.sigma_min))

    def __repr__(self) -> str:
        return f"CondOTProcess(sigma_min={self.sigma_min}, t_min={self.t_min}, T={self.T})"
