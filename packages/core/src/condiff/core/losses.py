"""Training losses for diffusion models.

Every loss is a small frozen dataclass called as
``loss(process, parameterization, output, x0, eps, t, y) -> (B,)`` with
``x_t = a x0 + b y + s eps`` the state the network saw. Time samplers for
training (uniform, logit-normal, importance) sit at the end of the module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from condiff.core.parameterization import TWO_HEADS, Output, regression_target, to_x0_eps
from condiff.core.processes.base import GaussianProcess, expand_like

__all__ = [
    "WEIGHTINGS",
    "DenoisingScoreMatchingLoss",
    "FokkerPlanckRegularizer",
    "IRSDEMaximumLikelihoodLoss",
    "ImportanceTimeSampler",
    "RegressionLoss",
    "ResidualNoiseLoss",
    "logit_normal_time",
    "loss_weight",
    "uniform_time",
]

WEIGHTINGS = ("uniform", "snr", "sigma2", "min_snr", "edm", "likelihood")


def _per_sample(diff: Tensor, norm: str) -> Tensor:
    per_elem = diff.abs() if norm == "l1" else diff.square()
    return per_elem.flatten(1).mean(dim=1)


def _check_norm(name: str, norm: str) -> None:
    if norm not in ("l1", "l2"):
        raise ValueError(f"{name}: norm must be 'l1' or 'l2', got {norm!r}")


@dataclass(frozen=True)
class RegressionLoss:
    """Per-sample regression of the network output onto its parameterization's target.

    ``L = mean_over_dims |out - target|^p`` with ``p = 2`` (``norm="l2"``, DDPM's
    simple loss, Ho et al. 2020 eq. 14) or ``p = 1`` (``norm="l1"``). A tuple output
    (``residual_eps``) sums the per-head losses. Targets: :func:`regression_target`.
    """

    norm: str = "l2"

    def __post_init__(self) -> None:
        _check_norm("RegressionLoss", self.norm)

    def __call__(
        self,
        process: GaussianProcess,
        parameterization: str,
        output: Output,
        x0: Tensor,
        eps: Tensor,
        t: Tensor,
        y: Tensor | None = None,
    ) -> Tensor:
        target = regression_target(parameterization, x0, eps, process=process, t=t, y=y)
        if isinstance(target, tuple):
            if not isinstance(output, tuple) or len(output) != len(target):
                raise ValueError(f"RegressionLoss: parameterization {parameterization!r} needs a tuple output")
            heads = [_per_sample(o - g.to(o.dtype), self.norm) for o, g in zip(output, target, strict=True)]
            return torch.stack(heads).sum(dim=0)
        if not isinstance(output, Tensor):
            raise ValueError(f"RegressionLoss: parameterization {parameterization!r} needs a tensor output")
        return _per_sample(output - target.to(output.dtype), self.norm)


@dataclass(frozen=True)
class ResidualNoiseLoss:
    """RDDM's multi-target loss on two heads (Liu et al. 2024, eqs. 12-13).

    ``L = w_1 |o_1 - g_1| + w_eps |eps_hat - eps|`` (L1 by default, as in the RDDM code) for
    the tuple output ``(o_1, eps_hat)`` of parameterization ``residual_eps`` (``pred_res_noise``:
    ``g_1 = y - x0``) or ``x0_eps`` (``pred_x0_noise``: ``g_1 = x0``). ``residual_weight`` is
    ``w_1``; a zero weight trains one head only.
    """

    norm: str = "l1"
    residual_weight: float = 1.0
    noise_weight: float = 1.0

    def __post_init__(self) -> None:
        _check_norm("ResidualNoiseLoss", self.norm)
        if self.residual_weight < 0 or self.noise_weight < 0:
            raise ValueError("ResidualNoiseLoss: residual_weight and noise_weight must be >= 0")

    def __call__(
        self,
        process: GaussianProcess,
        parameterization: str,
        output: Output,
        x0: Tensor,
        eps: Tensor,
        t: Tensor,
        y: Tensor | None = None,
    ) -> Tensor:
        if parameterization not in TWO_HEADS or not isinstance(output, tuple):
            raise ValueError(
                f"ResidualNoiseLoss: needs a two-head parameterization {TWO_HEADS} and a tuple output, "
                f"got {parameterization!r}"
            )
        if parameterization == "residual_eps" and y is None:
            raise ValueError("ResidualNoiseLoss: the residual y - x0 needs the condition y")
        first, eps_hat = output
        target = x0 if parameterization == "x0_eps" else y - x0  # type: ignore[operator]
        return self.residual_weight * _per_sample(first - target, self.norm) + self.noise_weight * _per_sample(
            eps_hat - eps, self.norm
        )


def loss_weight(
    weighting: str,
    process: GaussianProcess,
    t: Tensor,
    min_snr_gamma: float = 5.0,
    sigma_data: float = 0.5,
) -> Tensor:
    """Weight ``w(t)`` of the data-prediction error ``|x0_hat - x0|^2``; ``t: (B,)`` -> ``(B,)`` float64.

    With ``SNR = a^2/s^2`` and ``sigma = s/a`` (so ``|eps err|^2 = SNR |x0 err|^2``):
        ``uniform``: 1.
        ``snr`` and ``sigma2``: ``SNR``, i.e. the eps-MSE of DDPM; equal to the score-space
            weighting ``lambda = s^2`` of score-SDE (Song et al. 2021, eq. 7).
        ``min_snr``: ``min(SNR, gamma)`` (Hang et al. 2023, eq. 8).
        ``edm``: ``(sigma^2 + sigma_data^2) / (sigma sigma_data)^2`` (Karras et al. 2022, Table 1).
        ``likelihood``: score-space ``lambda = g^2`` (Song et al. 2021b, Thm. 1), i.e.
            ``g^2 a^2 / s^4`` on the x0 error.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown loss weighting {weighting!r}; expected one of {WEIGHTINGS}")
    c = process.coefficients64(t)
    snr = c.a.square() / c.s.square()
    if weighting == "uniform":
        return torch.ones_like(snr)
    if weighting in ("snr", "sigma2"):
        return snr
    if weighting == "min_snr":
        return snr.clamp(max=min_snr_gamma)
    if weighting == "edm":
        sigma2 = 1.0 / snr
        return (sigma2 + sigma_data**2) / (sigma2 * sigma_data**2)
    g2 = 2.0 * c.s * (c.ds - c.da / c.a * c.s)
    return g2 * snr / c.s.square()


@dataclass(frozen=True)
class DenoisingScoreMatchingLoss:
    """Weighted denoising score matching, ``L = w(t) mean_over_dims |x0_hat - x0|^2``.

    Any parameterization's output is first converted to ``x0_hat`` (so the same weighting
    means the same objective for every parameterization; Kingma & Gao 2023). ``w`` is
    :func:`loss_weight`. Score matching with weight ``lambda(t)`` (Song et al. 2021, eq. 7)
    is ``lambda a^2/s^4 |x0 err|^2``.

    Args:
        weighting: one of :data:`WEIGHTINGS`.
        min_snr_gamma: ``gamma`` of ``min_snr``.
        sigma_data: data standard deviation of ``edm``.
    """

    weighting: str = "snr"
    min_snr_gamma: float = 5.0
    sigma_data: float = 0.5

    def __post_init__(self) -> None:
        if self.weighting not in WEIGHTINGS:
            raise ValueError(
                f"DenoisingScoreMatchingLoss: weighting must be one of {WEIGHTINGS}, got {self.weighting!r}"
            )
        if not self.min_snr_gamma > 0 or not self.sigma_data > 0:
            raise ValueError("DenoisingScoreMatchingLoss: min_snr_gamma and sigma_data must be > 0")

    def __call__(
        self,
        process: GaussianProcess,
        parameterization: str,
        output: Output,
        x0: Tensor,
        eps: Tensor,
        t: Tensor,
        y: Tensor | None = None,
    ) -> Tensor:
        c = process.coefficients64(t)
        x_t = expand_like(c.a, x0) * x0 + expand_like(c.s, x0) * eps
        if y is not None:
            x_t = x_t + expand_like(c.b, x0) * y
        x0_hat, _ = to_x0_eps(parameterization, output, x_t, t, process, y)
        w = loss_weight(self.weighting, process, t, self.min_snr_gamma, self.sigma_data)
        return w.to(x0.dtype) * _per_sample(x0_hat - x0, "l2")


def optimal_reverse_state(
    process: GaussianProcess, x_t: Tensor, x0: Tensor, t: Tensor, t_prev: Tensor, y: Tensor | None = None
) -> Tensor:
    """``E[x_{t'} | x_t, x0, y]`` for ``t' < t``: the optimum reverse state of IR-SDE (Luo et al. 2023, eq. 12).

    For the Markov forward SDE of the path, ``x_t | x_{t'}`` has gain ``k = a_t / a_{t'}`` and
    variance ``s_t^2 - k^2 s_{t'}^2``, so Gaussian conditioning gives
    ``x*_{t'} = m_{t'} + k s_{t'}^2 / s_t^2 (x_t - m_t)``, ``m = a x0 + b y``. For IR-SDE this is
    the paper's ``(1 - C^2) A / (1 - B^2) (x_t - mu) + (1 - A^2) C / (1 - B^2) (x0 - mu) + mu``.
    """
    c, p = process.coefficients64(t), process.coefficients64(t_prev)
    k = c.a / p.a
    gain = expand_like(k * p.s.square() / c.s.square(), x_t)
    m_t = expand_like(c.a, x0) * x0
    m_p = expand_like(p.a, x0) * x0
    if y is not None:
        m_t = m_t + expand_like(c.b, x0) * y
        m_p = m_p + expand_like(p.b, x0) * y
    return m_p + gain * (x_t - m_t)


@dataclass(frozen=True)
class IRSDEMaximumLikelihoodLoss:
    """IR-SDE's maximum-likelihood loss (Luo et al. 2023, eq. 13) in continuous time.

    One reverse-SDE Euler step of length ``dt`` from ``x_t`` with the predicted score,
    ``x_t - [f - g^2 score_hat] dt``, is regressed (L1 by default, as in the paper) onto
    the optimum reverse state :func:`optimal_reverse_state` at ``t' = max(t - dt, t_min)``.

    Args:
        dt: continuous length of the reverse step (``1/N`` for ``N`` discrete steps).
        norm: ``"l1"`` or ``"l2"``.
    """

    dt: float = 0.01
    norm: str = "l1"

    def __post_init__(self) -> None:
        _check_norm("IRSDEMaximumLikelihoodLoss", self.norm)
        if not self.dt > 0:
            raise ValueError(f"IRSDEMaximumLikelihoodLoss: dt must be > 0, got {self.dt}")

    def __call__(
        self,
        process: GaussianProcess,
        parameterization: str,
        output: Output,
        x0: Tensor,
        eps: Tensor,
        t: Tensor,
        y: Tensor | None = None,
    ) -> Tensor:
        t64 = torch.as_tensor(t).to(torch.float64)
        t_prev = (t64 - self.dt).clamp(min=process.t_min)
        c = process.coefficients64(t64)
        x_t = expand_like(c.a, x0) * x0 + expand_like(c.s, x0) * eps
        if y is not None:
            x_t = x_t + expand_like(c.b, x0) * y
        _, eps_hat = to_x0_eps(parameterization, output, x_t, t, process, y)
        drift = process.reverse_drift(x_t, t64, eps_hat, y)
        step = expand_like(t_prev - t64, x_t) * drift
        target = optimal_reverse_state(process, x_t, x0, t64, t_prev, y)
        return _per_sample(x_t + step - target, self.norm)


def score_fokker_planck_residual(
    score_fn: Callable[[Tensor, Tensor], Tensor],
    process: GaussianProcess,
    x: Tensor,
    t: Tensor,
    y: Tensor | None = None,
) -> Tensor:
    """Residual of the score Fokker-Planck equation at ``(x, t)``; ``x: (B, D)``, ``t: (B,)`` -> ``(B, D)``.

    The score ``s = grad log p_t`` of the forward SDE ``dx = f dt + g dW`` satisfies
    (Lai et al. 2023, eq. 7; Deveney et al. 2023, "Closing the ODE-SDE gap ...", eq. 9)

        d s / dt = grad_x [ g^2/2 (div s + |s|^2) - f . s - div f ],

    and ``div f = D a'/a`` does not depend on ``x`` here, so its gradient drops. A score
    network whose residual vanishes generates the same marginals with the SDE and the
    probability-flow ODE. Cost: ``2 D + 1`` autograd passes with ``create_graph=True``,
    so use it for scalar or low-dimensional data only.

    Args:
        score_fn: ``(x: (B, D), t: (B,)) -> (B, D)``, differentiable in both.
        process: the forward process.
        x: ``(B, D)`` points.
        t: ``(B,)`` times.
        y: ``(B, D)`` or broadcastable condition, or ``None``.
    """
    if x.ndim != 2:
        raise ValueError(f"score_fokker_planck_residual: x must be (B, D), got shape {tuple(x.shape)}")
    x = x.detach().requires_grad_(True)
    t = torch.as_tensor(t, device=x.device).detach().to(x.dtype).requires_grad_(True)
    score = score_fn(x, t)
    dim = x.shape[1]

    def grad(out: Tensor, wrt: Tensor) -> Tensor:
        g = torch.autograd.grad(out, wrt, create_graph=True, allow_unused=True)[0]
        return torch.zeros_like(wrt) if g is None else g

    div = sum(grad(score[:, i].sum(), x)[:, i] for i in range(dim))
    c = process.coefficients64(t.detach())
    g2 = (2.0 * c.s * (c.ds - c.da / c.a * c.s)).to(x.dtype)
    f = process.forward_drift(x, t.detach(), y)
    phi = 0.5 * g2 * (div + score.square().sum(1)) - (f * score).sum(1)
    ds_dt = torch.stack([grad(score[:, i].sum(), t) for i in range(dim)], dim=1)
    return ds_dt - grad(phi.sum(), x)


@dataclass(frozen=True)
class FokkerPlanckRegularizer:
    """``weight * mean_over_dims r^2`` of the score Fokker-Planck residual :func:`score_fokker_planck_residual`.

    Called as ``reg(score_fn, process, x, t, y) -> (B,)`` (it needs the network itself,
    not only its output); add it to a denoising loss for low-dimensional data.
    """

    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.weight >= 0:
            raise ValueError(f"FokkerPlanckRegularizer: weight must be >= 0, got {self.weight}")

    def __call__(
        self,
        score_fn: Callable[[Tensor, Tensor], Tensor],
        process: GaussianProcess,
        x: Tensor,
        t: Tensor,
        y: Tensor | None = None,
    ) -> Tensor:
        return self.weight * score_fokker_planck_residual(score_fn, process, x, t, y).square().mean(dim=1)


# -- time sampling ------------------------------------------------------------


def uniform_time(
    batch: int, process: GaussianProcess, device: torch.device | str, generator: torch.Generator | None = None
) -> Tensor:
    """Times ``t ~ U[t_min, T]``, shape ``(batch,)``."""
    u = torch.rand(batch, device=device, generator=generator)
    return process.t_min + (process.T - process.t_min) * u


def logit_normal_time(
    batch: int,
    process: GaussianProcess,
    device: torch.device | str,
    generator: torch.Generator | None = None,
    mean: float = 0.0,
    std: float = 1.0,
) -> Tensor:
    """Times ``t = t_min + (T - t_min) sigmoid(n)``, ``n ~ N(mean, std^2)`` (Esser et al. 2024, eq. 19)."""
    if not std > 0:
        raise ValueError(f"logit_normal_time: std must be > 0, got {std}")
    n = torch.randn(batch, device=device, generator=generator) * std + mean
    return process.t_min + (process.T - process.t_min) * torch.sigmoid(n)


class ImportanceTimeSampler:
    """Sample ``t`` with density proportional to ``density(t)`` on ``[t_min, T]``, by inverse CDF on a grid.

    Returns ``(t, w)`` with ``w = 1 / ((T - t_min) p(t))``: ``E[w L(t)]`` under this sampler
    equals ``E[L(t)]`` under uniform time, so a weighted loss keeps its objective and only
    its variance changes (Song et al. 2021b, Sec. 5; Kingma et al. 2021, App. I).

    Args:
        process: supplies ``[t_min, T]``.
        density: ``t: (G,) float64 -> (G,)`` non-negative, not all zero.
        grid_size: number of grid cells of the piecewise-linear CDF.
    """

    def __init__(self, process: GaussianProcess, density: Callable[[Tensor], Tensor], grid_size: int = 2048) -> None:
        if grid_size < 2:
            raise ValueError(f"ImportanceTimeSampler: grid_size must be >= 2, got {grid_size}")
        self.t_min, self.T = process.t_min, process.T
        grid = torch.linspace(self.t_min, self.T, grid_size + 1, dtype=torch.float64)
        p = torch.as_tensor(density(grid), dtype=torch.float64)
        if p.shape != grid.shape or not bool(torch.isfinite(p).all()) or bool((p < 0).any()) or float(p.sum()) <= 0:
            raise ValueError("ImportanceTimeSampler: density must return finite non-negative values, not all zero")
        cell = 0.5 * (p[1:] + p[:-1]) * torch.diff(grid)
        cdf = torch.cat([grid.new_zeros(1), torch.cumsum(cell, 0)])
        self._grid, self._p, self._cdf, self._norm = grid, p / cdf[-1], cdf / cdf[-1], float(cdf[-1])

    def pdf(self, t: Tensor) -> Tensor:
        """Normalised density ``p(t)`` (piecewise linear between grid points)."""
        t = torch.as_tensor(t, dtype=torch.float64)
        idx = (torch.searchsorted(self._grid, t.contiguous(), right=True) - 1).clamp(0, len(self._grid) - 2)
        g0, g1 = self._grid[idx], self._grid[idx + 1]
        f = (t - g0) / (g1 - g0)
        return self._p[idx] * (1 - f) + self._p[idx + 1] * f

    def __call__(
        self, batch: int, device: torch.device | str = "cpu", generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        u = torch.rand(batch, generator=generator, dtype=torch.float64)
        idx = (torch.searchsorted(self._cdf, u, right=True) - 1).clamp(0, len(self._grid) - 2)
        # invert the quadratic CDF of the linear-density cell
        g0, g1 = self._grid[idx], self._grid[idx + 1]
        h = g1 - g0
        p0, p1 = self._p[idx], self._p[idx + 1]
        m = u - self._cdf[idx]
        slope = (p1 - p0) / h
        lin = m / p0.clamp_min(1e-300)
        quad = (-p0 + torch.sqrt((p0 * p0 + 2 * slope * m).clamp_min(0))) / torch.where(slope == 0, 1.0, slope)
        t = g0 + torch.where(slope.abs() < 1e-12, lin, quad).clamp(min=0).minimum(h)
        w = 1.0 / ((self.T - self.t_min) * self.pdf(t))
        return t.to(device=device, dtype=torch.float32), w.to(device=device, dtype=torch.float32)
