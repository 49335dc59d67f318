"""Bridges pinned at the data (``t = 0``) and at the condition ``y`` (``t = T``)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, PathCoefficients


class BrownianBridgeProcess(GaussianProcess):
    """Brownian bridge from ``x0`` at ``t = 0`` to ``y`` at ``t = 1``.

    ``a = 1 - t``, ``b = t``, ``s = sigma sqrt(t (1 - t))`` (BBDM, Li et al. 2023, eq. 3
    with ``m_t = t``); its forward SDE is ``dx = (y - x)/(1 - t) dt + sigma dW``. The
    prior at ``t = 1`` is ``y`` itself.

    Args:
        sigma: diffusion coefficient, > 0.
        t_min: smallest time evaluated (``s(0) = 0``).
        T: terminal time, at most 1 (``a(1) = 0``, so noise prediction is undefined there).
    """

    def __init__(self, sigma: float = 1.0, t_min: float = 1e-3, T: float = 1.0) -> None:
        if not sigma > 0:
            raise ValueError(f"BrownianBridgeProcess: sigma must be > 0, got {sigma}")
        if not 0 < t_min < T <= 1.0:
            raise ValueError(f"BrownianBridgeProcess: need 0 < t_min < T <= 1, got t_min={t_min}, T={T}")
        self.sigma, self.t_min, self.T = float(sigma), float(t_min), float(T)

    def coefficients(self, t: Tensor) -> PathCoefficients:
        t = torch.as_tensor(t)
        q = t * (1.0 - t)
        s = self.sigma * torch.sqrt(q)
        one = torch.ones_like(t)
        return PathCoefficients(a=1.0 - t, b=t, s=s, da=-one, db=one, ds=self.sigma**2 * (1.0 - 2.0 * t) / (2.0 * s))

    def log_snr(self, t: Tensor) -> Tensor:
        t = torch.as_tensor(t)
        return 0.5 * (torch.log1p(-t) - torch.log(t)) - math.log(self.sigma)

    def t_from_log_snr(self, lam: Tensor, iters: int = 100) -> Tensor:
        """Closed form: ``(1 - t)/t = sigma^2 e^{2 lam}``, so ``t = sigmoid(-2 (lam + log sigma))``."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        return torch.sigmoid(-2.0 * (lam + math.log(self.sigma)))

    def __repr__(self) -> str:
        return f"BrownianBridgeProcess(sigma={self.sigma}, t_min={self.t_min}, T={self.T})"


class ConsecutiveBrownianBridge(BrownianBridgeProcess):
    """Two Brownian bridges that leave the same frame toward its two neighbours (Lyu et al. 2024).

    Frame interpolation ("Frame Interpolation with Consecutive Brownian Bridge Diffusion"):
    the middle frame ``x0`` diffuses toward the previous frame ``y_prev`` on one side and
    the next frame ``y_next`` on the other, with the same noise,

        x_t^- = (1 - t) x0 + t y_prev + s(t) eps,    x_t^+ = (1 - t) x0 + t y_next + s(t) eps,

    ``s(t)^2 = 2 max_var t (1 - t)`` (their ``variance_t`` with ``m_t = t``), so each side is a
    :class:`BrownianBridgeProcess` with ``sigma = sqrt(2 max_var)``. One network serves both
    sides; it sees the signed time :meth:`signed_time` (``-t`` toward ``y_prev``, ``+t``
    toward ``y_next``: one consecutive time axis ``[-1, 1]`` through the data at 0) and the
    other side's state as condition. Sampling starts from either neighbour at ``t = 1``.

    Args:
        max_var: the bridge's variance scale (the paper's ``max_var``; peak variance ``max_var / 2``).
        t_min: smallest time evaluated.
        T: terminal time, at most 1.
    """

    def __init__(self, max_var: float = 1.0, t_min: float = 1e-3, T: float = 1.0) -> None:
        if not max_var > 0:
            raise ValueError(f"ConsecutiveBrownianBridge: max_var must be > 0, got {max_var}")
        super().__init__(sigma=math.sqrt(2.0 * max_var), t_min=t_min, T=T)
        self.max_var = float(max_var)

    def paired_sample(
        self,
        x0: Tensor,
        y_prev: Tensor,
        y_next: Tensor,
        t: Tensor,
        noise: Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Both sides' states at ``t`` with one shared noise: ``(x_t^-, x_t^+, eps)``; all ``(B, ...)``."""
        eps = self.noise_like(x0, generator) if noise is None else noise
        x_prev, _ = self.marginal_sample(x0, t, y_prev, noise=eps)
        x_next, _ = self.marginal_sample(x0, t, y_next, noise=eps)
        return x_prev, x_next, eps

    @staticmethod
    def signed_time(t: Tensor, toward_next: bool | Tensor) -> Tensor:
        """The network's time input: ``+t`` on the side toward ``y_next``, ``-t`` toward ``y_prev``."""
        sign = torch.where(torch.as_tensor(toward_next, device=t.device), 1.0, -1.0).to(t.dtype)
        return sign * t

    def __repr__(self) -> str:
        return f"ConsecutiveBrownianBridge(max_var={self.max_var}, t_min={self.t_min}, T={self.T})"


class SBVEProcess(GaussianProcess):
    """Schrödinger bridge with a variance-exploding reference SDE (SB-VE; Jukić et al. 2024, SGMSE's ``sbve``).

    Reference SDE ``dx = g dW``, ``g(t) = sqrt(c) k^t`` (Table 1), so
    ``sigma_t^2 = c (k^{2t} - 1) / (2 log k)`` and ``sigmabar_t^2 = sigma_T^2 - sigma_t^2``.
    The bridge marginal (eq. 11, with ``alpha_t = 1``) is

        a = sigmabar_t^2 / sigma_T^2,  b = sigma_t^2 / sigma_T^2,  s = sigmabar_t sigma_t / sigma_T,

    and its forward SDE is ``dx = g^2 (y - x) / sigmabar_t^2 dt + g dW``. At ``T`` the
    state equals ``y``. Unlike sgmse we add no ``1e-8`` regulariser: ``t`` stays in
    ``[t_min, T]`` where the formulas are finite, except ``a(T) = s(T) = 0``.

    Args:
        k: growth of the diffusion coefficient, > 1.
        c: scale of the diffusion coefficient, > 0.
        t_min: smallest time evaluated.
        T: terminal time.
    """

    def __init__(self, k: float = 2.6, c: float = 0.4, t_min: float = 1e-3, T: float = 1.0) -> None:
        if not k > 1:
            raise ValueError(f"SBVEProcess: k must be > 1, got {k}")
        if not c > 0:
            raise ValueError(f"SBVEProcess: c must be > 0, got {c}")
        if not 0 < t_min < T:
            raise ValueError(f"SBVEProcess: need 0 < t_min < T, got t_min={t_min}, T={T}")
        self.k, self.c, self.t_min, self.T = float(k), float(c), float(t_min), float(T)
        self._logk = math.log(self.k)
        self._var_T = self.c * math.expm1(2 * self._logk * self.T) / (2 * self._logk)

    def _var(self, t: Tensor) -> Tensor:
        return self.c * torch.expm1(2 * self._logk * t) / (2 * self._logk)

    def coefficients(self, t: Tensor) -> PathCoefficients:
        t = torch.as_tensor(t)
        v = self._var(t)
        vbar = self._var_T - v
        g2 = self.c * torch.exp(2 * self._logk * t)
        s = torch.sqrt(vbar * v / self._var_T)
        return PathCoefficients(
            a=vbar / self._var_T,
            b=v / self._var_T,
            s=s,
            da=-g2 / self._var_T,
            db=g2 / self._var_T,
            ds=g2 * (vbar - v) / (2 * s * self._var_T),
        )

    def log_snr(self, t: Tensor) -> Tensor:
        v = self._var(torch.as_tensor(t))
        return 0.5 * (torch.log(self._var_T - v) - torch.log(v) - math.log(self._var_T))

    def t_from_log_snr(self, lam: Tensor, iters: int = 100) -> Tensor:
        """Closed form: ``sigma_t^2 = sigma_T^2 / (1 + sigma_T^2 e^{2 lam})``, then invert ``sigma_t^2``."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        v = self._var_T / (1.0 + self._var_T * torch.exp(2.0 * lam))
        return torch.log1p(2 * self._logk * v / self.c) / (2 * self._logk)

    def __repr__(self) -> str:
        return f"SBVEProcess(k={self.k}, c={self.c}, t_min={self.t_min}, T={self.T})"
