"""UniPC (Zhao et al. 2023): unified predictor-corrector of any order over the general path.

In ``r = x - b y`` with ``hh = -h`` (data prediction) or ``h`` (noise), ``base``, ``c`` as in
:mod:`~condiff.core.sampling.dpm_solver` and ``r_k = (lambda_{p_k} - lambda_p)/h``,
``D_k = (m_k - m0)/r_k`` for the ``K`` previous nodes:

    UniP-p:  r_q = base r - c phi1 m0 - c B(h) sum_k a_k D_k                       (Alg. 2, eq. 7)
    UniC-p:  r_q^c = base r - c phi1 m0 - c B(h) (sum_k a_k D_k + a_p (m_q - m0))   (Alg. 1, eq. 5)

with ``phi1 = e^hh - 1`` and ``B(h) = hh`` (``bh1``) or ``e^hh - 1`` (``bh2``); the weights
solve ``R a = g`` with ``R_ik = r_k^(i-1)`` and ``g_i = (i! phi_{i+1}(hh) hh) / B(h)``
(eq. 9; ``a = 1/2`` for a single unknown). The corrector reuses the network call at ``q``
that the next predictor needs, so it costs no extra NFE; the final step runs without it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.dpm_solver import WARMUPS, History, first_order, warm_start
from condiff.core.sampling.exp_integrator import Context, Node, check_choice, step_orders
from condiff.core.sampling.types import Samples

VARIANTS = ("bh1", "bh2")


def _weights(rks: list[float], hh: float, variant: str, n: int) -> tuple[list[float], float]:
    """Solve UniPC's order conditions (eq. 9) for the first ``n`` of ``rks``; returns ``(a, B(h))``."""
    b_h = hh if variant == "bh1" else math.expm1(hh)
    if n == 1:
        return [0.5], b_h
    h_phi_k = math.expm1(hh) / hh - 1.0
    fact, rhs = 1, []
    for i in range(1, n + 1):
        rhs.append(h_phi_k * fact / b_h)
        fact *= i + 1
        h_phi_k = h_phi_k / hh - 1.0 / fact
    rk = torch.tensor(rks[:n], dtype=torch.float64)
    mat = torch.stack([rk ** (i - 1) for i in range(1, n + 1)])
    return torch.linalg.solve(mat, torch.tensor(rhs, dtype=torch.float64)).tolist(), b_h


def _frame(p: Node, q: Node, predict_x0: bool) -> tuple[float, float, float]:
    h = q.lam - p.lam
    return (q.s / p.s, q.a, -h) if predict_x0 else (q.a / p.a, q.s, h)


def unipc_update(
    r: Tensor, hist: History, q: Node, order: int, predict_x0: bool, variant: str, m_q: Tensor | None = None
) -> Tensor:
    """UniP-``order`` prediction (``m_q is None``) or UniC correction with ``m_q`` at ``q`` from ``hist[-1]``.

    Into ``s_q = 0`` the prediction is the exact first-order limit (no ``log s``) and there is no correction.
    """
    p, m0 = hist[-1]
    if q.s == 0:
        return first_order(r, p, q, m0, predict_x0)
    base, c, hh = _frame(p, q, predict_x0)
    h = q.lam - p.lam
    prev = hist[-order:-1][::-1] if order > 1 else []
    rks = [(pk.lam - p.lam) / h for pk, _ in prev]
    dks = [(mk - m0) / rk for (_, mk), rk in zip(prev, rks, strict=True)]
    out = base * r - (c * math.expm1(hh)) * m0
    if m_q is None:
        if not dks:
            return out
        a, b_h = _weights(rks, hh, variant, len(dks))
        return out - (c * b_h) * sum((ak * dk for ak, dk in zip(a, dks, strict=True)), torch.zeros_like(m0))
    a, b_h = _weights([*rks, 1.0], hh, variant, len(dks) + 1)
    corr = sum((ak * dk for ak, dk in zip(a[:-1], dks, strict=True)), torch.zeros_like(m0))
    return out - (c * b_h) * (corr + a[-1] * (m_q - m0))


def unipc(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Any,
    grid: Tensor,
    y: Any = None,
    *,
    order: int = 2,
    variant: str = "bh2",
    predict_x0: bool = True,
    corrector: bool = True,
    lower_order_final: bool = True,
    warmup: str = "lower",
    **kw: Any,
) -> Samples:
    """UniPC-``order`` (UniP predictor + UniC corrector, Zhao et al. 2023, Alg. 3), one network call per step.

    Args:
        order: predictor order ``p >= 1`` (with the corrector the method has order ``p + 1``).
        variant: ``"bh1"`` (``B(h) = h``) or ``"bh2"`` (``B(h) = e^h - 1``).
        predict_x0: data prediction (default) or noise prediction.
        corrector: apply UniC after every step but the last.
        lower_order_final: ramp the order down to 1 over the last ``order - 1`` steps.
        warmup: ``"lower"`` (the paper's) or ``"singlestep"``: the first ``order - 1`` steps by
            :func:`~condiff.core.sampling.dpm_solver.warm_start` of order ``min(order + 1, 3)``.
        kw: context options (``state_dtype``, ``clip_x0``, ``dynamic_threshold``, ...).
    """
    if int(order) != order or order < 1:
        raise ValueError(f"unipc: order must be a positive integer, got {order}")
    check_choice("unipc", "variant", variant, VARIANTS)
    check_choice("unipc", "warmup", warmup, WARMUPS)
    ctx = Context("unipc", denoiser, process, x, grid, y, **kw)
    x, i0 = ctx.degenerate_start(ctx.x0)
    nodes = ctx.nodes[i0:]
    orders = step_orders(len(nodes) - 1, int(order), lower_order_final, warmup == "lower")
    hist: History = []
    x_start = x  # corrected state at the previous node, where the last prediction started
    for i, k in enumerate(orders):
        p, q = nodes[i], nodes[i + 1]
        if warmup == "singlestep" and i < order - 1:
            x, x0, eps = warm_start(ctx, x, p, q, int(order) + 1)
            hist = [*hist[-(int(order) - 1) :], (p, x0 if predict_x0 else eps)]
            ctx.step_done(i0 + i, x, x0)
            continue
        x0, eps = ctx.model(x, p)
        m = x0 if predict_x0 else eps
        if corrector and hist and not (warmup == "singlestep" and i <= order - 1):
            prev = hist[-1][0]
            x = ctx.to_x(unipc_update(ctx.to_r(x_start, prev), hist, p, orders[i - 1], predict_x0, variant, m), p)
        hist = [*hist[-(int(order) - 1) :], (p, m)] if order > 1 else [(p, m)]
        x_start = x
        x = ctx.to_x(unipc_update(ctx.to_r(x, p), hist, q, k, predict_x0, variant), q)
        ctx.step_done(i0 + i, x, x0)
    return ctx.result(x)


METHODS: dict[str, Callable[..., Samples]] = {"unipc": unipc}
