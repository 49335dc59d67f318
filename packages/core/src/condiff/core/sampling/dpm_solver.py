"""DPM-Solver (Lu et al. 2022a) and DPM-Solver++ (Lu et al. 2022b) over the general path ``x = a x0 + b y + s eps``.

All updates act on ``r = x - b y`` (see :mod:`~condiff.core.sampling.exp_integrator`). With
``hh = -h`` for data prediction and ``hh = h`` for noise prediction (``h = lambda_q - lambda_p``),
``base = s_q/s_p`` resp. ``a_q/a_p`` and ``c = a_q`` resp. ``s_q``, both families read

    r_q = base r_p - c phi1 m0 - c psi2 D1 - c psi3 D2,
    phi1 = e^hh - 1,  psi2 = phi1/hh - 1,  psi3 = psi2/hh - 1/2

(DPM-Solver eq. 3.7 / Alg. 2; DPM-Solver++ eq. 8-9 / Alg. 2), with ``m`` the model output
(``x0_hat`` or ``eps_hat``) and ``D1, D2`` its backward differences in ``lambda``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.exp_integrator import (
    Context,
    Node,
    check_choice,
    check_order,
    data_first_order,
    node_at_lambda,
    noise_first_order,
    step_orders,
)
from condiff.core.sampling.noise import Generators
from condiff.core.sampling.types import Samples

SOLVER_TYPES = ("midpoint", "taylor")
WARMUPS = ("lower", "singlestep")
History = list[tuple[Node, Tensor]]


def _frame(p: Node, q: Node, predict_x0: bool) -> tuple[float, float, float]:
    """``(base, c, hh)`` of the step ``p -> q`` in data or noise prediction."""
    h = q.lam - p.lam
    if predict_x0:
        return q.s / p.s, q.a, -h
    return q.a / p.a, q.s, h


def first_order(r: Tensor, p: Node, q: Node, m: Tensor, predict_x0: bool) -> Tensor:
    return data_first_order(r, p, q, m) if predict_x0 else noise_first_order(r, p, q, m)


def multistep_update(r: Tensor, hist: History, q: Node, order: int, predict_x0: bool, solver_type: str) -> Tensor:
    """Multistep step of order 1-3 from the last node of ``hist`` to ``q`` (DPM-Solver++ Alg. 2, eq. 9-10).

    Order 2 ``midpoint`` is DPM-Solver++(2M) (``- c phi1 D1 / 2``), ``taylor`` the Taylor form
    (``- c psi2 D1``, the MR Sampler's); order 3 is DPM-Solver(++) 3M. Into ``s_q = 0`` the step is
    the exact first-order limit ``r_q = a_q x0_hat`` (``h = inf`` leaves no room for differences).
    """
    p, m0 = hist[-1]
    if order == 1 or q.s == 0:
        return first_order(r, p, q, m0, predict_x0)
    base, c, hh = _frame(p, q, predict_x0)
    phi1 = math.expm1(hh)
    psi2 = phi1 / hh - 1.0
    p1, m1 = hist[-2]
    h = q.lam - p.lam
    r0 = (p.lam - p1.lam) / h
    d1_0 = (m0 - m1) / r0
    out = base * r - (c * phi1) * m0
    if order == 2:
        return out - (0.5 * c * phi1) * d1_0 if solver_type == "midpoint" else out - (c * psi2) * d1_0
    p2, m2 = hist[-3]
    r1 = (p1.lam - p2.lam) / h
    d1_1 = (m1 - m2) / r1
    d1 = d1_0 + (r0 / (r0 + r1)) * (d1_0 - d1_1)
    d2 = (d1_0 - d1_1) / (r0 + r1)
    return out - (c * psi2) * d1 - (2.0 * c * (psi2 / hh - 0.5)) * d2


def run_multistep(
    ctx: Context, order: int, predict_x0: bool, solver_type: str, lower_order_final: bool, warmup: str = "lower"
) -> Samples:
    """Walk the grid with :func:`multistep_update`; one network call per step (see :func:`warm_start`)."""
    check_choice(ctx.name, "warmup", warmup, WARMUPS)
    x, i0 = ctx.degenerate_start(ctx.x0)
    nodes = ctx.nodes[i0:]
    hist: History = []
    orders = step_orders(len(nodes) - 1, order, lower_order_final, warmup=warmup == "lower")
    for i, k in enumerate(orders):
        p, q = nodes[i], nodes[i + 1]
        if warmup == "singlestep" and i < order - 1:
            x, x0, eps = warm_start(ctx, x, p, q, order)
        else:
            x0, eps = ctx.model(x, p)
            x = ctx.to_x(multistep_update(ctx.to_r(x, p), [*hist[-2:], (p, x0 if predict_x0 else eps)], q, k,
                                          predict_x0, solver_type), q)  # fmt: skip
        hist = [*hist[-2:], (p, x0 if predict_x0 else eps)]
        ctx.step_done(i0 + i, x, x0)
    return ctx.result(x)


def warm_start(ctx: Context, x: Tensor, p: Node, q: Node, order: int) -> tuple[Tensor, Tensor, Tensor]:
    """A singlestep DPM-Solver++ step of ``min(order, 3)`` for the first ``order - 1`` steps of a multistep method.

    ``warmup="lower"`` (the papers' default) starts a ``k``-step method with steps of order
    ``1, ..., k - 1``: cheap, but the first step's ``O(h^2)`` local error caps the global order
    at 2 once ``h`` is small. ``warmup="singlestep"`` fills the history with singlestep steps of
    the full order instead (``order`` network calls each, counted in NFE), which keeps the
    method's order asymptotically. Returns the new state and ``(x0_hat, eps_hat)`` at ``p``.
    """
    return singlestep_update(ctx, x, p, q, min(order, 3), True)


def singlestep_update(
    ctx: Context, x: Tensor, p: Node, q: Node, order: int, predict_x0: bool
) -> tuple[Tensor, Tensor, Tensor]:
    """Singlestep DPM-Solver-k / DPM-Solver++(kS) step, ``k`` network calls (DPM-Solver Alg. 1, 4-5; ++ Alg. 1).

    Intermediate nodes at ``lambda_p + r_i h`` with ``r = (1/2)`` for order 2 and ``(1/3, 2/3)`` for
    order 3. Returns the new state and ``(x0_hat, eps_hat)`` at ``p``.
    """
    x0, eps = ctx.model(x, p)
    m0 = x0 if predict_x0 else eps
    r = ctx.to_r(x, p)
    if order == 1 or q.s == 0:
        return ctx.to_x(first_order(r, p, q, m0, predict_x0), q), x0, eps
    h = q.lam - p.lam
    base, c, hh = _frame(p, q, predict_x0)
    r1 = 0.5 if order == 2 else 1.0 / 3.0
    s1 = node_at_lambda(ctx.process, p.lam + r1 * h)
    b1, c1, hh1 = _frame(p, s1, predict_x0)
    u1 = b1 * r - (c1 * math.expm1(hh1)) * m0
    m1 = _pick(ctx.model(ctx.to_x(u1, s1), s1), predict_x0)
    if order == 2:
        return ctx.to_x(base * r - (c * math.expm1(hh)) * m0 - (0.5 / r1 * c * math.expm1(hh)) * (m1 - m0), q), x0, eps
    r2 = 2.0 / 3.0
    s2 = node_at_lambda(ctx.process, p.lam + r2 * h)
    b2, c2, hh2 = _frame(p, s2, predict_x0)
    u2 = b2 * r - (c2 * math.expm1(hh2)) * m0 - (r2 / r1 * c2 * (math.expm1(hh2) / hh2 - 1.0)) * (m1 - m0)
    m2 = _pick(ctx.model(ctx.to_x(u2, s2), s2), predict_x0)
    out = base * r - (c * math.expm1(hh)) * m0 - (c / r2 * (math.expm1(hh) / hh - 1.0)) * (m2 - m0)
    return ctx.to_x(out, q), x0, eps


def _pick(out: tuple[Tensor, Tensor], predict_x0: bool) -> Tensor:
    return out[0] if predict_x0 else out[1]


def run_singlestep(ctx: Context, order: int, predict_x0: bool, lower_order_final: bool) -> Samples:
    x, i0 = ctx.degenerate_start(ctx.x0)
    nodes = ctx.nodes[i0:]
    n = len(nodes) - 1
    for i in range(n):
        k = min(order, n - i) if lower_order_final else order
        x, x0, _ = singlestep_update(ctx, x, nodes[i], nodes[i + 1], k, predict_x0)
        ctx.step_done(i0 + i, x, x0)
    return ctx.result(x)


def _context(
    name: str, denoiser: Denoiser, process: GaussianProcess, x: Any, grid: Tensor, y: Any, kw: dict
) -> Context:
    return Context(name, denoiser, process, x, grid, y, **kw)


def dpm_solver(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Any,
    grid: Tensor,
    y: Any = None,
    *,
    order: int = 2,
    variant: str = "multistep",
    solver_type: str = "midpoint",
    lower_order_final: bool = True,
    warmup: str = "lower",
    **kw: Any,
) -> Samples:
    """DPM-Solver (noise prediction), orders 1-3, ``variant="multistep"`` or ``"singlestep"``.

    Singlestep order ``k`` costs ``k`` network calls per grid step; multistep one. With
    ``lower_order_final`` the last ``k - 1`` steps ramp the order down to 1; ``warmup`` chooses how
    the multistep history starts (:func:`warm_start`). ``a(t_0) = 0``:
    the first step is taken in data prediction (see :meth:`Context.degenerate_start`).
    Context options (``state_dtype``, ``clip_x0``, ``dynamic_threshold``, ...) pass through ``kw``.
    """
    check_order("dpm-solver", order, (1, 2, 3))
    check_choice("dpm-solver", "variant", variant, ("multistep", "singlestep"))
    check_choice("dpm-solver", "solver_type", solver_type, SOLVER_TYPES)
    ctx = _context("dpm-solver", denoiser, process, x, grid, y, kw)
    if variant == "singlestep":
        return run_singlestep(ctx, order, False, lower_order_final)
    return run_multistep(ctx, order, False, solver_type, lower_order_final, warmup)


def dpm_solver_pp(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Any,
    grid: Tensor,
    y: Any = None,
    *,
    order: int = 2,
    variant: str = "multistep",
    solver_type: str = "midpoint",
    lower_order_final: bool = True,
    warmup: str = "lower",
    **kw: Any,
) -> Samples:
    """DPM-Solver++ (data prediction): 2M (default), 3M (``order=3``), 2S/3S (``variant="singlestep"``)."""
    check_order("dpm-solver++", order, (1, 2, 3))
    check_choice("dpm-solver++", "variant", variant, ("multistep", "singlestep"))
    check_choice("dpm-solver++", "solver_type", solver_type, SOLVER_TYPES)
    ctx = _context("dpm-solver++", denoiser, process, x, grid, y, kw)
    if variant == "singlestep":
        return run_singlestep(ctx, order, True, lower_order_final)
    return run_multistep(ctx, order, True, solver_type, lower_order_final, warmup)


def sde_update(
    ctx: Context, r: Tensor, hist: History, q: Node, order: int, predict_x0: bool, solver_type: str
) -> Tensor:
    """SDE-DPM-Solver++(1, 2M) (DPM-Solver++ eq. 16-17, data) and SDE-DPM-Solver (noise), in ``r``.

    Data: ``r_q = (s_q/s_p) e^-h r + a_q (1 - e^-2h) (m0 + w D1) + s_q sqrt(1 - e^-2h) z`` with
    ``w = 1/2`` (midpoint) or ``(1 - (1 - e^-2h)/(2h)) / (1 - e^-2h)`` (taylor). Noise: ``r_q = (a_q/a_p) r
    - 2 s_q (e^h - 1) m0 - s_q w' D1 + s_q sqrt(e^2h - 1) z`` with ``w' = e^h - 1`` (midpoint) or
    ``2 ((e^h - 1)/h - 1)`` (taylor, the MR Sampler's SDE-2). Into ``s_q = 0`` the step is deterministic,
    ``r_q = a_q x0_hat``.
    """
    p, m0 = hist[-1]
    if q.s == 0:
        return first_order(r, p, q, m0, predict_x0)
    h = q.lam - p.lam
    use2 = order == 2 and len(hist) > 1 and math.isfinite(hist[-2][0].lam)
    d1 = (m0 - hist[-2][1]) * (h / (p.lam - hist[-2][0].lam)) if use2 else None
    z = ctx.noise(r)
    if predict_x0:
        emh = p.a * q.s / (p.s * q.a)  # e^-h, finite (zero) where a_p = 0
        one_m = -math.expm1(-2.0 * h) if math.isfinite(h) else 1.0
        out = (q.s / p.s * emh) * r + (q.a * one_m) * m0 + (q.s * math.sqrt(one_m)) * z
        if d1 is not None:
            w = 0.5 * one_m if solver_type == "midpoint" else 1.0 - one_m / (2.0 * h)
            out = out + (q.a * w) * d1
        return out
    e1 = math.expm1(h)
    out = (q.a / p.a) * r - (2.0 * q.s * e1) * m0 + (q.s * math.sqrt(math.expm1(2.0 * h))) * z
    if d1 is not None:
        w = q.s * e1 if solver_type == "midpoint" else 2.0 * q.s * (e1 / h - 1.0)
        out = out - w * d1
    return out


def run_sde(ctx: Context, order: int, predict_x0: bool, solver_type: str, lower_order_final: bool) -> Samples:
    """Walk the grid with :func:`sde_update` (no degenerate-start step: the data form is finite at ``a = 0``)."""
    if not predict_x0:
        x, i0 = ctx.degenerate_start(ctx.x0)
    else:
        x, i0 = ctx.x0, 0
    nodes = ctx.nodes[i0:]
    hist: History = []
    for i, k in enumerate(step_orders(len(nodes) - 1, order, lower_order_final)):
        p, q = nodes[i], nodes[i + 1]
        x0, eps = ctx.model(x, p)
        hist = [*hist[-1:], (p, x0 if predict_x0 else eps)]
        x = ctx.to_x(sde_update(ctx, ctx.to_r(x, p), hist, q, k, predict_x0, solver_type), q)
        ctx.step_done(i0 + i, x, x0)
    return ctx.result(x)


def sde_dpm_solver_pp(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Any,
    grid: Tensor,
    y: Any = None,
    *,
    order: int = 2,
    solver_type: str = "midpoint",
    lower_order_final: bool = True,
    generator: Generators = None,
    **kw: Any,
) -> Samples:
    """SDE-DPM-Solver++ 1 and 2M (data prediction), noise from ``noise.randn`` with ``generator``."""
    check_order("sde-dpm-solver++", order, (1, 2))
    check_choice("sde-dpm-solver++", "solver_type", solver_type, SOLVER_TYPES)
    ctx = _context("sde-dpm-solver++", denoiser, process, x, grid, y, {"generator": generator, **kw})
    return run_sde(ctx, order, True, solver_type, lower_order_final)


METHODS: dict[str, Callable[..., Samples]] = {
    "dpm-solver": dpm_solver,
    "dpm-solver++": dpm_solver_pp,
    "sde-dpm-solver++": sde_dpm_solver_pp,
}
