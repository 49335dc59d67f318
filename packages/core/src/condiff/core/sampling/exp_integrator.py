"""Shared machinery of the exponential-integrator solvers over ``x_t = a x0 + b y + s eps``.

With ``r = x - b y = a x0 + s eps`` the probability-flow ODE ``dx/dt = a' x0_hat + b' y + s' eps_hat``
becomes ``dr/dt = a' x0_hat + s' eps_hat``: the ``y`` term is integrated exactly by the change of
variable, and in ``r`` every formula of DPM-Solver(++), UniPC, DEIS and the MR Sampler holds with
``alpha -> a``, ``sigma -> s``, ``lambda = log(a/s)`` (see ``docs/solvers.md``):

    d(r/s) = e^lambda x0_hat dlambda        (data prediction)
    d(r/a) = -e^-lambda eps_hat dlambda     (noise prediction)

This module holds the path nodes (float64 scalars), the solver context (network calls, NFE,
thresholding, state dtype, callback, trajectory) and the first-order steps with their two
special cases: a final step into ``s = 0`` and a first step from ``a = 0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, check_condition
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.grids import grid_coefficients
from condiff.core.sampling.noise import Generators, randn
from condiff.core.sampling.thresholding import ThresholdedDenoiser
from condiff.core.sampling.types import Samples


@dataclass(frozen=True)
class Node:
    """The path at one time: ``t, a, b, s`` and ``lambda = log(a/s)`` as float64 scalars."""

    t: float
    a: float
    b: float
    s: float
    lam: float

    @property
    def phi(self) -> float:
        """Angle ``atan2(s, a)`` of the ``(a, s)`` plane (the variable of the velocity form)."""
        return math.atan2(self.s, self.a)

    @property
    def norm(self) -> float:
        return math.hypot(self.a, self.s)

    @property
    def rho(self) -> float:
        """``sigma = s / a`` (DEIS's ``rho``, EDM's ``sigma``); ``inf`` where ``a = 0``."""
        return math.inf if self.a == 0 else self.s / self.a


def nodes_on(process: GaussianProcess, times: Tensor) -> list[Node]:
    """Nodes at ``times`` (one float64 evaluation of the coefficients for all of them)."""
    c = grid_coefficients(process, times)
    return [Node(*(float(v[i]) for v in (c.t, c.a, c.b, c.s, c.lam))) for i in range(c.t.numel())]


def node_at_lambda(process: GaussianProcess, lam: float) -> Node:
    """The node whose ``lambda`` is ``lam`` (intermediate points of singlestep methods)."""
    t = process.t_from_log_snr(torch.tensor([lam], dtype=torch.float64))
    return nodes_on(process, t)[0]


def lagrange_integrals(
    knots: Sequence[float], lo: float, hi: float, warp: Callable[[Tensor], Tensor] | None = None
) -> list[float]:
    """``int_lo^hi L_j(u(v)) dv`` for the Lagrange basis ``L_j`` on ``knots`` (Gauss-Legendre, float64).

    ``u = warp(v)`` maps the integration variable to the interpolation variable (identity
    by default, where the rule is exact for the polynomial degrees used here).
    """
    xg, wg = np.polynomial.legendre.leggauss(16)
    v = torch.as_tensor(0.5 * (hi - lo) * xg + 0.5 * (hi + lo), dtype=torch.float64)
    w = torch.as_tensor(0.5 * (hi - lo) * wg, dtype=torch.float64)
    u = v if warp is None else warp(v)
    out = []
    for j, kj in enumerate(knots):
        basis = torch.ones_like(u)
        for m, km in enumerate(knots):
            if m != j:
                basis = basis * (u - km) / (kj - km)
        out.append(float((w * basis).sum()))
    return out


def data_first_order(r: Tensor, p: Node, q: Node, x0: Tensor) -> Tensor:
    """First-order data-prediction step in ``r`` (DPM-Solver++ eq. 8 with ``k = 1`` = DDIM).

    ``r_q = (s_q/s_p) r_p - a_q (e^-h - 1) x0``, ``h = lambda_q - lambda_p``; its limits are
    ``r_q = a_q x0`` into ``s_q = 0`` and ``r_q = (s_q/s_p) r_p + a_q x0`` from ``a_p = 0``.
    """
    if q.s == 0:
        return q.a * x0
    if p.a == 0:
        return (q.s / p.s) * r + q.a * x0
    return (q.s / p.s) * r - (q.a * math.expm1(-(q.lam - p.lam))) * x0


def noise_first_order(r: Tensor, p: Node, q: Node, eps: Tensor) -> Tensor:
    """First-order noise-prediction step in ``r`` (DPM-Solver eq. 3.7 with ``k = 1``).

    ``r_q = (a_q/a_p) r_p - s_q (e^h - 1) eps``; into ``s_q = 0`` it is ``(a_q/a_p)(r_p - s_p eps)``.
    """
    if q.s == 0:
        return (q.a / p.a) * (r - p.s * eps)
    return (q.a / p.a) * r - (q.s * math.expm1(q.lam - p.lam)) * eps


class Context:
    """One solve: the denoiser calls (counted), the path nodes, the state dtype, callback and trajectory.

    Args:
        name: method name for error messages.
        denoiser: ``(x, t) -> (x0_hat, eps_hat)``.
        process: the path.
        x: ``(B, ...)`` state at ``grid[0]``; its dtype is the one the network sees.
        grid: decreasing float64 times.
        y: the condition of the path, or ``None``.
        state_dtype: dtype of the solver state (e.g. ``torch.float64``); default ``x.dtype``.
        clip_x0, dynamic_threshold, dynamic_threshold_max: see :class:`ThresholdedDenoiser`.
    """

    def __init__(
        self,
        name: str,
        denoiser: Denoiser,
        process: GaussianProcess,
        x: Any,
        grid: Tensor,
        y: Tensor | None,
        *,
        generator: Generators = None,
        callback: Callable[[int, Tensor, Tensor], None] | None = None,
        return_trajectory: bool = False,
        state_dtype: torch.dtype | None = None,
        clip_x0: tuple[float, float] | None = None,
        dynamic_threshold: float | None = None,
        dynamic_threshold_max: float | None = None,
    ) -> None:
        if not isinstance(x, Tensor):
            raise ValueError(f"{name}: the exponential integrators take a tensor state, got {type(x).__name__}")
        check_condition(y, x)
        self.name, self.process, self.generator, self.callback = name, process, generator, callback
        self.model_dtype = x.dtype
        self.dtype = x.dtype if state_dtype is None else state_dtype
        self.y = None if y is None else y.to(x.device, self.dtype)
        self.denoiser = ThresholdedDenoiser(
            denoiser, process, y, clip_x0=clip_x0, dynamic_threshold=dynamic_threshold,
            dynamic_threshold_max=dynamic_threshold_max,
        )  # fmt: skip
        self.nodes = nodes_on(process, grid)
        if len(self.nodes) < 2:
            raise ValueError(f"{name}: the grid needs at least two times, got {len(self.nodes)}")
        if self.nodes[0].s == 0:
            raise ValueError(
                f"{name}: cannot start at t={self.nodes[0].t} where s(t) = 0 (the state is a point mass and the "
                "probability-flow ODE is singular there); start below it with t_start, or use an SDE sampler"
            )
        self.x0 = x.to(self.dtype)
        self.nfe = 0
        self.trajectory: list[Tensor] = [x] if return_trajectory else []
        self.return_trajectory = return_trajectory
        self._t_dtype = torch.float32 if x.device.type == "mps" else torch.float64

    def model(self, x: Tensor, node: Node) -> tuple[Tensor, Tensor]:
        """``(x0_hat, eps_hat)`` at ``(x, t)`` in the state dtype; one network evaluation."""
        return self.model_t(x, torch.full((x.shape[0],), node.t, dtype=torch.float64))

    def model_t(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        """As :meth:`model` with per-sample times ``t: (B,)`` (float64)."""
        x0, eps = self.denoiser(x.to(self.model_dtype), t.to(x.device, self._t_dtype))
        self.nfe += 1
        return x0.to(self.dtype), eps.to(self.dtype)

    def to_r(self, x: Tensor, node: Node) -> Tensor:
        return x if self.y is None or node.b == 0 else x - node.b * self.y

    def to_x(self, r: Tensor, node: Node) -> Tensor:
        return r if self.y is None or node.b == 0 else r + node.b * self.y

    def noise(self, like: Tensor) -> Tensor:
        """Projected standard normal noise shaped like ``like`` from the solve's generator(s)."""
        z = randn(like.shape, self.generator, device=like.device, dtype=like.dtype)
        return self.process.project(z)

    def step_done(self, i: int, x: Tensor, x0: Tensor) -> None:
        if self.callback is not None:
            self.callback(i, x, x0)
        if self.return_trajectory:
            self.trajectory.append(x.to(self.model_dtype))

    def result(self, x: Tensor) -> Samples:
        return Samples(x=x.to(self.model_dtype), nfe=self.nfe, trajectory=self.trajectory)

    def degenerate_start(self, x: Tensor) -> tuple[Tensor, int]:
        """Where ``a(t_0) = 0`` take the first step in data prediction (finite there); return ``(x, first index)``.

        ``lambda(t_0) = -inf``: noise prediction (``x0 = (r - s eps)/a``) and every formula with
        ``h = lambda_1 - lambda_0`` are undefined, but the first-order data-prediction step has the
        finite limit ``r_1 = (s_1/s_0) r_0 + a_1 x0_hat``. Multistep history then starts at ``t_1``.
        """
        p, q = self.nodes[0], self.nodes[1]
        if p.a != 0:
            return x, 0
        x0, _ = self.model(x, p)
        x = self.to_x(data_first_order(self.to_r(x, p), p, q, x0), q)
        self.step_done(0, x, x0)
        return x, 1


def step_orders(n_steps: int, order: int, lower_order_final: bool, warmup: bool = True) -> list[int]:
    """Order of each of ``n_steps`` multistep steps: ramp up from 1 (history) and, optionally, down to 1 at the end."""
    out = []
    for i in range(n_steps):
        k = min(order, i + 1) if warmup else order
        if lower_order_final:
            k = min(k, n_steps - i)
        out.append(k)
    return out


def check_order(name: str, order: int, allowed: Sequence[int]) -> int:
    if int(order) != order or int(order) not in allowed:
        raise ValueError(f"{name}: order must be one of {tuple(allowed)}, got {order}")
    return int(order)


def check_choice(name: str, key: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValueError(f"{name}: {key} must be one of {tuple(allowed)}, got {value!r}")
    return value
