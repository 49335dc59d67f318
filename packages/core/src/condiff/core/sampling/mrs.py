"""The MR Sampler (Li et al. 2025, "MRS: A Fast Sampler for Mean Reverting Diffusion based on ODE and SDE Solvers").

MRS solves the PF-ODE and reverse SDE of the mean-reverting SDE ``dx = theta (mu - x) dt + sigma dW``
semi-analytically: the ``mu`` term integrates exactly and the network integral is expanded in
``lambda`` (their eqs. 11-14 for noise, 15-19 for data prediction). That is the general-path
exponential integrator of :mod:`~condiff.core.sampling.exp_integrator` applied to
:class:`~condiff.core.processes.MeanRevertingProcess` (``a = e^-thetabar``, ``b = 1 - a``), so
MRS here is an instance of the general solvers, exactly:

    ODE, data / noise, order k   == dpm-solver++ / dpm-solver multistep, order k, solver_type="taylor"
    SDE, data / noise, order 1-2 == the SDE-DPM-Solver(++) step, solver_type="taylor"

(tested to float64 precision). ``param="velocity"`` integrates ``d(r/n) = v dphi`` in the angle
``phi = atan2(s, a)`` (Adams-Bashforth, orders 1-3, ODE only), the update written in the
velocity ``v = (a eps - s x0)/n`` itself. (The MRS code also accepts velocity-trained networks by
converting ``v`` to ``x0`` first; here that conversion is the denoiser's job, see
:class:`~condiff.core.sampling.ModelDenoiser` with parameterization ``"v"``.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.deis import velocity_update
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.dpm_solver import WARMUPS, run_multistep, run_sde, warm_start
from condiff.core.sampling.exp_integrator import Context, Node, check_choice, check_order, step_orders
from condiff.core.sampling.noise import Generators
from condiff.core.sampling.types import Samples

PARAMS = ("data", "noise", "velocity")


def _run_velocity(ctx: Context, order: int, lower_order_final: bool, warmup: str) -> Samples:
    x = ctx.x0
    hist: list[tuple[Node, Tensor]] = []
    nodes = ctx.nodes
    for i, k in enumerate(step_orders(len(nodes) - 1, order, lower_order_final, warmup == "lower")):
        p, q = nodes[i], nodes[i + 1]
        if warmup == "singlestep" and i < order - 1 and p.a > 0:
            x, x0, eps = warm_start(ctx, x, p, q, order)
            hist = [*hist[-2:], (p, (p.a * eps - p.s * x0) / p.norm)]
        else:
            x0, eps = ctx.model(x, p)
            hist = [*hist[-2:], (p, (p.a * eps - p.s * x0) / p.norm)]
            x = ctx.to_x(velocity_update(ctx.to_r(x, p), hist, q, k), q)
        ctx.step_done(i, x, x0)
    return ctx.result(x)


def mr_sampler(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Any,
    grid: Tensor,
    y: Any = None,
    *,
    order: int = 2,
    solver: str = "ode",
    param: str = "data",
    lower_order_final: bool = True,
    warmup: str = "lower",
    generator: Generators = None,
    **kw: Any,
) -> Samples:
    """MR Sampler-``solver``-``param``-``order``: ODE orders 1-3, SDE orders 1-2, one network call per step.

    Args:
        order: 1-3 for ``solver="ode"``, 1-2 for ``"sde"``.
        solver: ``"ode"`` (probability flow) or ``"sde"`` (reverse SDE, noise from ``generator``).
        param: the variable of the update, ``"data"`` (the paper's recommendation),
            ``"noise"`` or ``"velocity"`` (ODE only).
        lower_order_final: ramp the order down to 1 over the last ``order - 1`` steps.
        warmup: ``"lower"`` or ``"singlestep"`` start of the ODE history
            (:func:`~condiff.core.sampling.dpm_solver.warm_start`).
        kw: context options (``state_dtype``, ``clip_x0``, ``dynamic_threshold``, ...).
    """
    check_choice("mrs", "solver", solver, ("ode", "sde"))
    check_choice("mrs", "param", param, PARAMS)
    check_order("mrs", order, (1, 2, 3) if solver == "ode" else (1, 2))
    if solver == "sde" and param == "velocity":
        raise ValueError("mrs: the SDE sampler is defined for param='data' or 'noise'; 'velocity' is ODE only")
    check_choice("mrs", "warmup", warmup, WARMUPS)
    ctx = Context("mrs", denoiser, process, x, grid, y, generator=generator, **kw)
    if param == "velocity":
        return _run_velocity(ctx, order, lower_order_final, warmup)
    if solver == "ode":
        return run_multistep(ctx, order, param == "data", "taylor", lower_order_final, warmup)
    return run_sde(ctx, order, param == "data", "taylor", lower_order_final)


METHODS: dict[str, Callable[..., Samples]] = {"mrs": mr_sampler}
