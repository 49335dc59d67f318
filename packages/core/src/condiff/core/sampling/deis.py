"""DEIS (Zhang & Chen 2023): exponential-integrator Adams-Bashforth in ``t`` (tAB) and in ``rho`` (rhoAB).

In ``r = x - b y`` the probability-flow ODE is ``d(r/a) = eps_hat drho`` with ``rho = s/a``
(DEIS eq. 13 in the variable ``rho``; the ``y`` term drops out exactly). Extrapolating
``eps_hat`` by the Lagrange polynomial ``sum_j L_j eps_j`` through the last ``k`` nodes gives

    r_q = (a_q/a_p) r_p + a_q sum_j C_j eps_j,    C_j = int_{rho_p}^{rho_q} L_j du      (eq. 15)

with ``L_j`` a polynomial in ``t`` (tAB, eq. 14) or in ``rho`` (rhoAB, eq. 17). The integrals
are evaluated by 16-point Gauss-Legendre in ``rho`` (exact for rhoAB). The same machinery
with ``scale = |(a, s)|``, ``u = atan2(s, a)`` and the velocity ``v`` gives the velocity form of
:mod:`~condiff.core.sampling.mrs`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.dpm_solver import WARMUPS, warm_start
from condiff.core.sampling.exp_integrator import (
    Context,
    Node,
    check_choice,
    check_order,
    lagrange_integrals,
    noise_first_order,
    step_orders,
)
from condiff.core.sampling.types import Samples

VARIANTS = ("tab", "rhoab")


def _t_of_rho(process: GaussianProcess) -> Callable[[Tensor], Tensor]:
    return lambda rho: process.t_from_log_snr(-torch.log(rho))


def deis_update(
    process: GaussianProcess, r: Tensor, hist: list[tuple[Node, Tensor]], q: Node, order: int, variant: str
) -> Tensor:
    """One DEIS step of ``order`` from ``hist[-1]`` to ``q`` (eq. 15); into ``s_q = 0`` the first-order limit."""
    p, e0 = hist[-1]
    if order == 1 or q.s == 0:
        return noise_first_order(r, p, q, e0)
    used = hist[-order:]
    if variant == "rhoab":
        coefs = lagrange_integrals([n.rho for n, _ in used], p.rho, q.rho)
    else:
        coefs = lagrange_integrals([n.t for n, _ in used], p.rho, q.rho, warp=_t_of_rho(process))
    out = (q.a / p.a) * r
    for cj, (_, ej) in zip(coefs, used, strict=True):
        out = out + (q.a * cj) * ej
    return out


def deis(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Any,
    grid: Tensor,
    y: Any = None,
    *,
    order: int = 2,
    variant: str = "tab",
    lower_order_final: bool = True,
    warmup: str = "lower",
    **kw: Any,
) -> Samples:
    """DEIS tAB-``order`` or rhoAB-``order`` (``variant``), orders 1-3, one network call per step.

    Order 1 is DDIM. ``warmup``: ``"lower"`` (orders ramp up from 1) or ``"singlestep"``
    (:func:`~condiff.core.sampling.dpm_solver.warm_start`). ``a(t_0) = 0``: the first step is
    taken in data prediction.
    Context options (``state_dtype``, ``clip_x0``, ``dynamic_threshold``, ...) pass through ``kw``.
    """
    check_order("deis", order, (1, 2, 3))
    check_choice("deis", "variant", variant, VARIANTS)
    check_choice("deis", "warmup", warmup, WARMUPS)
    ctx = Context("deis", denoiser, process, x, grid, y, **kw)
    x, i0 = ctx.degenerate_start(ctx.x0)
    nodes = ctx.nodes[i0:]
    hist: list[tuple[Node, Tensor]] = []
    for i, k in enumerate(step_orders(len(nodes) - 1, order, lower_order_final, warmup == "lower")):
        p, q = nodes[i], nodes[i + 1]
        if warmup == "singlestep" and i < order - 1:
            x, x0, eps = warm_start(ctx, x, p, q, order)
            hist = [*hist[-2:], (p, eps)]
        else:
            x0, eps = ctx.model(x, p)
            hist = [*hist[-2:], (p, eps)]
            x = ctx.to_x(deis_update(process, ctx.to_r(x, p), hist, q, k, variant), q)
        ctx.step_done(i0 + i, x, x0)
    return ctx.result(x)


def velocity_update(r: Tensor, hist: list[tuple[Node, Tensor]], q: Node, order: int) -> Tensor:
    """Adams-Bashforth in the angle ``phi = atan2(s, a)``: ``r_q/n_q = r_p/n_p + sum_j v_j int L_j(phi) dphi``.

    ``d(r/n) = v dphi`` with ``n = |(a, s)|`` and ``v = (a eps_hat - s x0_hat)/n`` holds for every
    path (``docs/solvers.md``); no ``log`` appears, so ``a = 0`` and ``s = 0`` need no special case.
    """
    p = hist[-1][0]
    used = hist[-order:]
    coefs = lagrange_integrals([n.phi for n, _ in used], p.phi, q.phi)
    if order == 1:
        coefs = [q.phi - p.phi]
    out = r / p.norm
    for cj, (_, vj) in zip(coefs, used, strict=True):
        out = out + cj * vj
    return q.norm * out


METHODS: dict[str, Callable[..., Samples]] = {"deis": deis}

__all__ = ["METHODS", "deis", "deis_update", "velocity_update"]
