"""Variance-preserving processes (DDPM; score-SDE VP with linear and cosine schedules)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, PathCoefficients


class VPProcess(GaussianProcess):
    """VP path ``x_t = alpha(t) x0 + sigma(t) eps`` with ``alpha^2 + sigma^2 = 1``, ``b = 0``.

    Schedules:
        ``linear``: score-SDE eq. (11), ``beta(t) = beta_min + t (beta_max - beta_min)``,
            ``log alpha(t) = -t^2 (beta_max - beta_min) / 4 - t beta_min / 2``.
        ``cosine``: Nichol & Dhariwal (2021) eq. (17),
            ``alpha(t) = cos(pi/2 (t + s)/(1 + s)) / cos(pi/2 s/(1 + s))``.

    Args:
        schedule: ``"linear"`` or ``"cosine"``.
        beta_min: linear-schedule ``beta(0)``.
        beta_max: linear-schedule ``beta(1)``.
        cosine_s: offset ``s`` of the cosine schedule.
        t_min: smallest time evaluated (1e-3 as in score-SDE).
        T: terminal time (cosine schedules stop short of 1, where alpha = 0).
    """

    def __init__(
        self,
        schedule: str = "linear",
        beta_min: float = 0.1,
        beta_max: float = 20.0,
        cosine_s: float = 0.008,
        t_min: float = 1e-3,
        T: float | None = None,
    ) -> None:
        if schedule not in ("linear", "cosine"):
            raise ValueError(f"VPProcess: schedule must be 'linear' or 'cosine', got {schedule!r}")
        if schedule == "linear" and not 0 <= beta_min < beta_max:
            raise ValueError(f"VPProcess: need 0 <= beta_min < beta_max, got {beta_min}, {beta_max}")
        self.schedule = schedule
        self.beta_min = float(beta_min)
        self.beta_max = float(beta_max)
        self.cosine_s = float(cosine_s)
        self.t_min = float(t_min)
        self.T = float(T) if T is not None else (1.0 if schedule == "linear" else 0.9946)
        if not 0 <= self.t_min < self.T:
            raise ValueError(f"VPProcess: need 0 <= t_min < T, got t_min={self.t_min}, T={self.T}")

    def log_alpha(self, t: Tensor) -> Tensor:
        """``log alpha(t)`` and nothing else (cheap, exact)."""
        if self.schedule == "linear":
            return -0.25 * t**2 * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min
        s = self.cosine_s
        return torch.log(torch.cos(math.pi / 2 * (t + s) / (1 + s))) - math.log(math.cos(math.pi / 2 * s / (1 + s)))

    def d_log_alpha(self, t: Tensor) -> Tensor:
        """``d log alpha / dt = -beta(t) / 2``."""
        if self.schedule == "linear":
            return -0.5 * (self.beta_min + t * (self.beta_max - self.beta_min))
        s = self.cosine_s
        return -math.pi / (2 * (1 + s)) * torch.tan(math.pi / 2 * (t + s) / (1 + s))

    def coefficients(self, t: Tensor) -> PathCoefficients:
        t = torch.as_tensor(t)
        la = self.log_alpha(t)
        dla = self.d_log_alpha(t)
        a = torch.exp(la)
        s2 = -torch.expm1(2 * la)
        s = torch.sqrt(s2)
        da = a * dla
        ds = -a * da / s  # from a^2 + s^2 = 1
        zero = torch.zeros_like(a)
        return PathCoefficients(a=a, b=zero, s=s, da=da, db=zero, ds=ds)

    def log_snr(self, t: Tensor) -> Tensor:
        la = self.log_alpha(torch.as_tensor(t))
        return la - 0.5 * torch.log(-torch.expm1(2 * la))

    def t_from_log_snr(self, lam: Tensor, iters: int = 100) -> Tensor:
        """Closed-form inverse: ``log alpha = -softplus(-2 lambda) / 2``, then solve for ``t``."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        la = -0.5 * torch.nn.functional.softplus(-2.0 * lam)
        if self.schedule == "linear":
            d = self.beta_max - self.beta_min
            # 0.25 d t^2 + 0.5 beta_min t + la = 0
            return (2.0 * (-la)) / (0.5 * self.beta_min + torch.sqrt(0.25 * self.beta_min**2 - d * la))
        s = self.cosine_s
        c0 = math.log(math.cos(math.pi / 2 * s / (1 + s)))
        return 2 * (1 + s) / math.pi * torch.arccos(torch.exp(la + c0)) - s

    def __repr__(self) -> str:
        return f"VPProcess(schedule={self.schedule!r}, t_min={self.t_min}, T={self.T})"


def _linear_log_alpha(t: Tensor, beta_min: float, beta_max: float) -> tuple[Tensor, Tensor]:
    """``log alpha(t)`` of the score-SDE linear schedule and its derivative ``-beta(t)/2``."""
    la = -0.25 * t**2 * (beta_max - beta_min) - 0.5 * t * beta_min
    dla = -0.5 * (beta_min + t * (beta_max - beta_min))
    return la, dla


def _linear_t_from_log_alpha(la: Tensor, beta_min: float, beta_max: float) -> Tensor:
    """Root ``t >= 0`` of ``d t^2 / 4 + beta_min t / 2 + la = 0``, written without cancellation."""
    d = beta_max - beta_min
    return (-2.0 * la) / (0.5 * beta_min + torch.sqrt(0.25 * beta_min**2 - d * la))


class SubVPProcess(GaussianProcess):
    """Sub-VP path of score-SDE (Song et al. 2021, eq. 29): ``a = alpha``, ``b = 0``, ``s = 1 - alpha^2``.

    ``alpha(t) = exp(-t^2 (beta_max - beta_min)/4 - t beta_min/2)`` as for the linear VP
    schedule; the variance ``(1 - alpha^2)^2`` stays below the VP one at every ``t``.

    Args:
        beta_min: ``beta(0)``.
        beta_max: ``beta(1)``.
        t_min: smallest time evaluated.
        T: terminal time.
    """

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0, t_min: float = 1e-3, T: float = 1.0) -> None:
        if not 0 <= beta_min < beta_max:
            raise ValueError(
                f"SubVPProcess: need 0 <= beta_min < beta_max, got beta_min={beta_min}, beta_max={beta_max}"
            )
        if not 0 < t_min < T:
            raise ValueError(f"SubVPProcess: need 0 < t_min < T, got t_min={t_min}, T={T}")
        self.beta_min, self.beta_max = float(beta_min), float(beta_max)
        self.t_min, self.T = float(t_min), float(T)

    def coefficients(self, t: Tensor) -> PathCoefficients:
        la, dla = _linear_log_alpha(torch.as_tensor(t), self.beta_min, self.beta_max)
        a = torch.exp(la)
        da = a * dla
        s = -torch.expm1(2 * la)
        zero = torch.zeros_like(a)
        return PathCoefficients(a=a, b=zero, s=s, da=da, db=zero, ds=-2 * a * da)

    def log_snr(self, t: Tensor) -> Tensor:
        la, _ = _linear_log_alpha(torch.as_tensor(t), self.beta_min, self.beta_max)
        return la - torch.log(-torch.expm1(2 * la))

    def t_from_log_snr(self, lam: Tensor, iters: int = 100) -> Tensor:
        """Closed form: ``alpha = 2 e^lam / (1 + sqrt(1 + 4 e^{2 lam}))`` solves ``alpha / (1 - alpha^2) = e^lam``."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        la = math.log(2.0) + lam - torch.log1p(torch.sqrt(1.0 + 4.0 * torch.exp(2.0 * lam)))
        return _linear_t_from_log_alpha(la, self.beta_min, self.beta_max)

    def __repr__(self) -> str:
        return f"SubVPProcess(beta_min={self.beta_min}, beta_max={self.beta_max}, t_min={self.t_min}, T={self.T})"


class DiscreteVPProcess(GaussianProcess):
    """VP path of a discrete DDPM, made continuous by piecewise-linear ``log alpha`` (DPM-Solver's 'discrete').

    Step ``n = 1..N`` of the table sits at ``t_n = n / N``; ``log alpha`` is interpolated
    linearly between the knots and pinned to ``0`` at ``t = 0`` (``alphas_cumprod_0 = 1``),
    exactly as ``NoiseScheduleVP('discrete')`` of DPM-Solver (Lu et al. 2022, App. D) does.
    Derivatives are the slopes of the segment that contains ``t`` (right-continuous at knots).

    Args:
        alphas_cumprod: ``(N,)`` table of ``alphabar_n``, strictly decreasing in ``(0, 1]``.
        betas: ``(N,)`` table of ``beta_n`` in ``(0, 1)``; give this or ``alphas_cumprod``.
        t_min: smallest time evaluated (default ``1/N``, the first DDPM step).
    """

    def __init__(
        self,
        alphas_cumprod: Tensor | None = None,
        betas: Tensor | None = None,
        t_min: float | None = None,
    ) -> None:
        if (alphas_cumprod is None) == (betas is None):
            raise ValueError("DiscreteVPProcess: give exactly one of alphas_cumprod or betas")
        if betas is not None:
            betas = torch.as_tensor(betas, dtype=torch.float64).flatten()
            if betas.numel() < 1 or not bool(((betas > 0) & (betas < 1)).all()):
                raise ValueError("DiscreteVPProcess: betas must be a non-empty table of values in (0, 1)")
            alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        ac = torch.as_tensor(alphas_cumprod, dtype=torch.float64).flatten()
        if ac.numel() < 1 or not bool(((ac > 0) & (ac <= 1)).all()):
            raise ValueError("DiscreteVPProcess: alphas_cumprod must be a non-empty table of values in (0, 1]")
        if ac.numel() > 1 and not bool((ac[1:] < ac[:-1]).all()):
            bad = int(torch.nonzero(ac[1:] >= ac[:-1])[0]) + 1
            raise ValueError(
                f"DiscreteVPProcess: alphas_cumprod must be strictly decreasing; "
                f"entry {bad} ({ac[bad].item()}) >= entry {bad - 1} ({ac[bad - 1].item()})"
            )
        if ac[0] >= 1.0:
            raise ValueError("DiscreteVPProcess: alphas_cumprod[0] must be < 1 (alpha = 1 is the knot at t = 0)")
        n = ac.numel()
        self.num_steps = n
        self._knots_t = torch.linspace(0.0, 1.0, n + 1, dtype=torch.float64)
        self._knots_la = torch.cat([ac.new_zeros(1), 0.5 * torch.log(ac)])
        self._slopes = torch.diff(self._knots_la) / torch.diff(self._knots_t)
        self.t_min = float(1.0 / n if t_min is None else t_min)
        self.T = 1.0
        if not 0 < self.t_min < self.T:
            raise ValueError(f"DiscreteVPProcess: need 0 < t_min < 1, got t_min={self.t_min}")

    def _segment(self, t: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        kt, kla, sl = (v.to(device=t.device, dtype=t.dtype) for v in (self._knots_t, self._knots_la, self._slopes))
        idx = (torch.searchsorted(kt, t.detach().contiguous(), right=True) - 1).clamp(0, self.num_steps - 1)
        return kt[idx], kla[idx], sl[idx]

    def log_alpha(self, t: Tensor) -> Tensor:
        """Piecewise-linear ``log alpha(t)``."""
        t = torch.as_tensor(t)
        t0, la0, slope = self._segment(t)
        return la0 + slope * (t - t0)

    def coefficients(self, t: Tensor) -> PathCoefficients:
        t = torch.as_tensor(t)
        t0, la0, slope = self._segment(t)
        la = la0 + slope * (t - t0)
        a = torch.exp(la)
        s = torch.sqrt(-torch.expm1(2 * la))
        da = a * slope
        zero = torch.zeros_like(a)
        return PathCoefficients(a=a, b=zero, s=s, da=da, db=zero, ds=-a * da / s)

    def log_snr(self, t: Tensor) -> Tensor:
        la = self.log_alpha(t)
        return la - 0.5 * torch.log(-torch.expm1(2 * la))

    def t_from_log_snr(self, lam: Tensor, iters: int = 100) -> Tensor:
        """Exact inverse on the piecewise-linear ``log alpha`` (search the knot interval, then solve)."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        la = -0.5 * torch.nn.functional.softplus(-2.0 * lam)
        kla = self._knots_la.to(lam.device)
        # knots of log alpha decrease; search the negated (increasing) table
        idx = (torch.searchsorted(-kla, (-la).contiguous(), right=True) - 1).clamp(0, self.num_steps - 1)
        kt, sl = self._knots_t.to(lam.device), self._slopes.to(lam.device)
        return kt[idx] + (la - kla[idx]) / sl[idx]

    def __repr__(self) -> str:
        return f"DiscreteVPProcess(num_steps={self.num_steps}, t_min={self.t_min})"
