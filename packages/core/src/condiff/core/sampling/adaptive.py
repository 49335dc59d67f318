"""Adaptive step size DPM-Solver-12 / -23 (Lu et al. 2022a, Sec. 3.3 and Alg. 4), per sample.

Uses only ``grid[0]`` and ``grid[-1]``. Each sample carries its own ``lambda`` and step ``h``,
so a sample does not depend on the batch it is solved in (DPM-Solver's reference code takes
the batch maximum of the error instead). A trial step computes a lower-order solution
``x_l`` and a higher-order one ``x_h`` sharing network calls; with
``delta = max(atol, rtol max(|x_l|, |x_prev|))`` and ``E = ||(x_h - x_l)/delta||_2 / sqrt(d)``
the step is accepted when ``E <= 1`` and ``h <- theta h E^(-1/order)`` either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.exp_integrator import Context, check_order
from condiff.core.sampling.types import Samples


class _Points:
    """``t, a, b, s`` at per-sample ``lambda`` values, shaped to broadcast against ``(n, ...)`` states."""

    def __init__(self, process: GaussianProcess, lam: Tensor, ndim: int, dtype: torch.dtype, t: Tensor | None = None):
        self.lam = lam
        self.t = process.t_from_log_snr(lam) if t is None else t
        c = process.coefficients64(self.t)
        shape = (-1,) + (1,) * (ndim - 1)
        self.a, self.b, self.s = (torch.broadcast_to(v, lam.shape).reshape(shape).to(dtype) for v in (c.a, c.b, c.s))


def _noise_step(r: Tensor, p: _Points, q: _Points, eps: Tensor, h: Tensor) -> Tensor:
    """``r_q = (a_q/a_p) r - s_q (e^h - 1) eps`` with per-sample ``h``."""
    return q.a / p.a * r - q.s * torch.expm1(h) * eps


def dpm_solver_adaptive(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Any,
    grid: Tensor,
    y: Any = None,
    *,
    order: int = 3,
    rtol: float = 0.05,
    atol: float = 0.0078,
    h_init: float = 0.05,
    theta: float = 0.9,
    max_nfe: int = 10_000,
    **kw: Any,
) -> Samples:
    """DPM-Solver-12 (``order=2``) or DPM-Solver-23 (``order=3``) with per-sample adaptive steps in ``lambda``.

    ``rtol, atol, h_init, theta`` as in DPM-Solver's Alg. 4 (``atol = 0.0078`` suits data in
    ``[-1, 1]``). Needs finite ``lambda`` at both ends: ``a(t_start) > 0`` and ``s(t_end) > 0``.
    NFE counts network calls; rejected steps reuse the call at their start.
    """
    check_order("dpm-solver-adaptive", order, (2, 3))
    ctx = Context("dpm-solver-adaptive", denoiser, process, x, grid, y, **kw)
    start, end = ctx.nodes[0], ctx.nodes[-1]
    if start.a == 0 or end.s == 0:
        raise ValueError(
            "dpm-solver-adaptive: needs a(t_start) > 0 and s(t_end) > 0 (finite log-SNR at both ends); "
            f"got a={start.a}, s={end.s}. Start below T / end above t_min, or use a fixed-grid method"
        )
    x = ctx.x0.clone()  # updated in place per sample
    n, ndim, dt = x.shape[0], x.ndim, ctx.dtype
    y_full = None if ctx.y is None else torch.broadcast_to(ctx.y, x.shape)
    lam_s = torch.full((n,), start.lam, dtype=torch.float64)
    t_s = torch.full((n,), start.t, dtype=torch.float64)
    h = torch.full((n,), float(h_init), dtype=torch.float64)
    x_prev = x.clone()
    eps_cache = torch.zeros_like(x)  # network output at each sample's current point
    have = torch.zeros(n, dtype=torch.bool)
    active = torch.ones(n, dtype=torch.bool)
    r1 = 0.5 if order == 2 else 1.0 / 3.0
    it = 0
    while bool(active.any()):
        if ctx.nfe >= max_nfe:
            raise RuntimeError(f"dpm-solver-adaptive: no convergence within max_nfe={max_nfe}; loosen rtol/atol")
        need = (active & ~have).nonzero().squeeze(1)
        if need.numel() > 0:
            eps_cache[need] = ctx.model_t(x[need], t_s[need])[1]
            have[need] = True
        idx = active.nonzero().squeeze(1)
        xs, eps_s = x[idx], eps_cache[idx]
        ys = None if y_full is None else y_full[idx]

        def to_r(v: Tensor, pt: _Points, ys: Tensor | None = ys) -> Tensor:
            return v if ys is None else v - pt.b * ys

        def to_x(v: Tensor, pt: _Points, ys: Tensor | None = ys) -> Tensor:
            return v if ys is None else v + pt.b * ys

        p = _Points(process, lam_s[idx], ndim, dt, t=t_s[idx])
        last = h[idx] >= end.lam - lam_s[idx]
        lam_t = torch.where(last, end.lam, lam_s[idx] + h[idx])
        q = _Points(process, lam_t, ndim, dt, t=torch.where(last, end.t, process.t_from_log_snr(lam_t)))
        hv = (q.lam - p.lam).reshape((-1,) + (1,) * (ndim - 1)).to(dt)
        r = to_r(xs, p)
        s1 = _Points(process, p.lam + r1 * (q.lam - p.lam), ndim, dt)
        e1 = ctx.model_t(to_x(_noise_step(r, p, s1, eps_s, r1 * hv), s1), s1.t)[1]
        second = _noise_step(r, p, q, eps_s, hv) - q.s / (2 * r1) * torch.expm1(hv) * (e1 - eps_s)
        if order == 2:
            low, high = _noise_step(r, p, q, eps_s, hv), second
        else:
            r2 = 2.0 / 3.0
            s2 = _Points(process, p.lam + r2 * (q.lam - p.lam), ndim, dt)
            phi = torch.expm1(r2 * hv) / (r2 * hv) - 1.0
            u2 = _noise_step(r, p, s2, eps_s, r2 * hv) - (r2 / r1) * s2.s * phi * (e1 - eps_s)
            e2 = ctx.model_t(to_x(u2, s2), s2.t)[1]
            low = second
            high = _noise_step(r, p, q, eps_s, hv) - q.s / r2 * (torch.expm1(hv) / hv - 1.0) * (e2 - eps_s)
        x_low, x_high = to_x(low, q), to_x(high, q)
        delta = torch.clamp_min(rtol * torch.maximum(x_low.abs(), x_prev[idx].abs()), atol)
        err = ((x_high - x_low) / delta).reshape(len(idx), -1).double().square().mean(1).sqrt()
        ok = err <= 1.0
        acc = idx[ok]
        x[acc], x_prev[acc] = x_high[ok], x_low[ok]
        lam_s[acc], t_s[acc] = q.lam[ok], q.t[ok]
        have[acc] = False
        h[idx] = theta * h[idx] * err.clamp_min(1e-10).pow(-1.0 / order)
        active[acc[last[ok]]] = False
        ctx.step_done(it, x, x)
        it += 1
    return ctx.result(x)


METHODS: dict[str, Callable[..., Samples]] = {"dpm-solver-adaptive": dpm_solver_adaptive}
