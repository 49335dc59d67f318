"""DPM-Solver-v3 (Zheng, Lu, Chen & Zhu 2023) over the general path ``x_t = a x0 + b y + s eps``.

Derivation for the general path (the VP paper has ``a = alpha``, ``s = sigma``, ``b = 0``). With
``lambda = log(a/s)``, ``r = x - b y`` and ``u = x/a``, the PF-ODE ``d(x/a) = d(s/a) eps + d(b/a) y``
reads ``du/dlambda = -(s/a) eps + (b/a)' y``. Write ``s eps = a f + l r`` with the empirical statistic
``l_lambda`` (paper eq. 6), i.e. the reparameterized model

    f_theta(x, lambda) = (s eps_theta - l (x - b y)) / a = (1 - l) r / a - x0_theta.

Then ``d(e^L u)/dlambda = d(e^L b/a)/dlambda y - e^L f`` with ``L = int l``: the ``y`` term integrates
exactly, and ``r`` obeys the VP equation of the paper with ``(alpha, sigma) -> (a, s)``:

    r_t = (a_t/a_s) e^{-(L_t - L_s)} r_s - a_t e^{-L_t} int_{lambda_s}^{lambda_t} e^{L} f dlambda   (eq. 7)

With ``s_lambda, b_lambda`` (eq. 10) and ``g = e^{-(S - S_s)} f - int_{lambda_s} e^{-(S - S_s)} b``
(eq. 8, normalised so ``g(lambda_s) = f_s``), ``dg/dlambda = e^{-S}(f' - s f - b)`` is as small as the
model allows, and a Taylor expansion of ``g`` around ``lambda_s`` gives the ``(n+1)``-th order update

    r_t = (a_t/a_s) e^{-dL} r_s - a_t e^{-dL} [ I g_s + T_b + sum_k K_k g^(k) / k! ]         (eq. 11)

    I = int e^{E},  K_k = int e^{E} (lambda - lambda_s)^k,  T_b = int e^{E} int_{lambda_s}^{lambda} e^{-(S - S_s)} b,

``E = (L + S)(lambda) - (L + S)(lambda_s)``, all integrals over ``[lambda_s, lambda_t]``. The statistics are
piecewise linear in ``lambda`` between their knots, so ``L, S`` are exact piecewise quadratics and the
integrals are composite Gauss-Legendre sums, accurate to float64 rounding (the paper uses the trapezoid
rule on the statistics grid and snaps the time steps to it; here any grid of :func:`time_grid` works).

Reductions (paper Sec. 3.1): ``l = 1, s = b = 0`` gives ``f = -x0``, the data-prediction DPM-Solver++
(order 1 = DDIM); ``l = 0, s = -1, b = 0`` gives ``g = eps`` (noise-prediction DPM-Solver).

The global solver is the paper's multistep predictor-corrector (Sec. 3.3, Alg. 2): the predictor uses
the last ``order`` model values; the corrector re-solves the previous step with the new model value at
no extra NFE; "pseudo" orders (Sec. 3.4) estimate the derivatives by divided differences.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.ems import ModelStatistics, StatisticsLike, compute_statistics, load_statistics
from condiff.core.sampling.noise import Generators
from condiff.core.sampling.types import Samples

__all__ = ["ModelStatistics", "compute_statistics", "dpm_solver_v3", "load_statistics"]

_GAUSS = 5  # Gauss-Legendre nodes per sub-interval
_MAX_WIDTH = 0.25  # widest sub-interval in lambda (bounds the quadrature error where knots are sparse)
_XI, _WI = (torch.from_numpy(v) for v in np.polynomial.legendre.leggauss(_GAUSS))
_LOWER_ORDER_FINAL_BELOW = 15  # DPM-Solver's threshold for lower-order final steps
_LAMBDA_TOL = 1e-6  # grid points may lie this far outside the statistics' lambda range


def _gauss(lo: float, hi: float, knots: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Composite Gauss-Legendre nodes on ``[lo, hi]`` split at the statistics' knots.

    Returns nodes ``(Q,)``, weights ``(Q,)``, the start of each node's sub-interval ``(Q,)`` and the
    sub-interval index of each node ``(Q,)``.
    """
    inner = knots[(knots > lo) & (knots < hi)].tolist()
    edges = [lo, *inner, hi]
    fine: list[float] = []
    for p, q in itertools.pairwise(edges):
        m = max(1, math.ceil((q - p) / _MAX_WIDTH))
        fine.extend(p + (q - p) * k / m for k in range(m))
    fine.append(hi)
    e = torch.tensor(fine, dtype=torch.float64)
    xi, wi = _XI, _WI
    half = 0.5 * (e[1:] - e[:-1])
    nodes = (e[:-1, None] + half[:, None] * (xi[None] + 1.0)).flatten()
    weights = (half[:, None] * wi[None]).flatten()
    start = e[:-1, None].expand(-1, _GAUSS).flatten()
    cell = torch.arange(len(e) - 1)[:, None].expand(-1, _GAUSS).flatten()
    return nodes, weights, start, cell


class _Coefficients:
    """Exact-integral coefficients of eq. (11) over one pair of grid points, computed once per grid."""

    def __init__(self, stats: ModelStatistics) -> None:
        self.stats = stats
        self._cache: dict[tuple[float, float, int], tuple[Tensor, ...]] = {}

    def shift(self, lam_s: float, lam_j: float) -> tuple[Tensor, Tensor]:
        """``(e^{-(S_j - S_s)}, int_{lambda_s}^{lambda_j} e^{-(S - S_s)} b)``: ``g_j = e f_j - J`` (eq. 8)."""
        st = self.stats
        lo, hi = min(lam_s, lam_j), max(lam_s, lam_j)
        nodes, w, _, _ = _gauss(lo, hi, st.lam)
        s_s = st.cumulative("s", torch.tensor([lam_s], dtype=torch.float64))[0]
        dec = torch.exp(-(st.cumulative("s", nodes) - s_s))
        j = torch.einsum("q,q...->...", w, dec * st.interp("b", nodes))
        sign = 1.0 if lam_j >= lam_s else -1.0
        e_j = torch.exp(-(st.cumulative("s", torch.tensor([lam_j], dtype=torch.float64))[0] - s_s))
        return e_j, sign * j

    def step(self, lam_s: float, lam_t: float, order: int) -> tuple[Tensor, ...]:
        """``(e^{-dL}, I, T_b, K_1, ..., K_{order-1})`` of eq. (11) from ``lambda_s`` to ``lambda_t > lambda_s``."""
        key = (lam_s, lam_t, order)
        if key in self._cache:
            return self._cache[key]
        st = self.stats
        nodes, w, start, cell = _gauss(lam_s, lam_t, st.lam)
        ends = torch.tensor([lam_s, lam_t], dtype=torch.float64)
        l_end, s_end = st.cumulative("l", ends), st.cumulative("s", ends)
        e = torch.exp(st.cumulative("l", nodes) + st.cumulative("s", nodes) - l_end[0] - s_end[0])  # (Q, *F)
        integral = torch.einsum("q,q...->...", w, e)
        # T_b: J(lambda) = int_{lambda_s}^{lambda} e^{-(S - S_s)} b at every node: sub-interval sums + a
        # Gauss rule on [start of the node's sub-interval, node]
        dec_b = torch.exp(-(st.cumulative("s", nodes) - s_end[0])) * st.interp("b", nodes)
        per_cell = torch.zeros((int(cell.max()) + 1, *dec_b.shape[1:]), dtype=torch.float64)
        per_cell.index_add_(0, cell, w.reshape(-1, *[1] * (dec_b.ndim - 1)) * dec_b)
        before = torch.cumsum(per_cell, 0) - per_cell  # sum over earlier sub-intervals
        xi, wi = _XI, _WI
        half = 0.5 * (nodes - start)
        inner = (start[:, None] + half[:, None] * (xi[None] + 1.0)).flatten()  # (Q * G,)
        dec_in = torch.exp(-(st.cumulative("s", inner) - s_end[0])) * st.interp("b", inner)
        dec_in = dec_in.reshape(len(nodes), _GAUSS, *dec_b.shape[1:])
        w_in = (half[:, None] * wi[None]).reshape(len(nodes), _GAUSS, *[1] * (dec_b.ndim - 1))
        j_nodes = before[cell] + (w_in * dec_in).sum(1)
        t_b = torch.einsum("q,q...->...", w, e * j_nodes)
        powers = [torch.einsum("q,q...->...", w * (nodes - lam_s) ** k, e) / math.factorial(k) for k in range(1, order)]
        out = (torch.exp(-(l_end[1] - l_end[0])), integral, t_b, *powers)
        self._cache[key] = out
        return out


def _derivative_weights(lams: list[float], pseudo: bool) -> Tensor:
    """Weights ``W (n, n+1)`` with ``g^(k) ~ sum_j W[k-1, j] g_j``, ``lams[0] = lambda_s`` (paper eq. 12).

    Taylor fit (``pseudo=False``): solve ``sum_k g^(k)/k! (lambda_j - lambda_s)^k = g_j - g_s``.
    Pseudo order (Sec. 3.4): ``g^(k) = k!`` times the ``k``-th divided difference at ``lambda_s``.
    """
    n = len(lams) - 1
    lam = torch.tensor(lams, dtype=torch.float64)
    if pseudo:
        table = [torch.eye(n + 1, dtype=torch.float64)]  # divided differences as combinations of g_j
        for k in range(1, n + 1):
            prev = table[-1]
            table.append(torch.stack([(prev[j] - prev[j + 1]) / (lam[j] - lam[j + k]) for j in range(n - k + 1)]))
        return torch.stack([table[k][0] * math.factorial(k) for k in range(1, n + 1)])
    dl = lam[1:] - lam[0]
    r = torch.stack([dl**k / math.factorial(k) for k in range(1, n + 1)], dim=1)  # (n points, n orders)
    diff = torch.cat([-torch.ones(n, 1, dtype=torch.float64), torch.eye(n, dtype=torch.float64)], dim=1)
    return torch.linalg.solve(r, diff)


def _update(
    coeffs: _Coefficients,
    lams: list[float],
    rs: list[Tensor],
    fs: list[Tensor],
    lam_t: float,
    a_s: float,
    a_t: float,
    pseudo: bool,
) -> Tensor:
    """One (n+1)-th order step of eq. (11) from ``lams[0]`` to ``lam_t``; ``rs, fs`` at ``lams``."""
    order = len(lams)
    decay, integral, t_b, *powers = coeffs.step(lams[0], lam_t, order)
    gs = [fs[0]]
    for lam_j, f_j in zip(lams[1:], fs[1:], strict=True):
        e_j, j_j = coeffs.shift(lams[0], lam_j)
        gs.append(_cast(e_j, f_j) * f_j - _cast(j_j, f_j))
    acc = _cast(integral, fs[0]) * gs[0] + _cast(t_b, fs[0])
    if order > 1:
        w = _derivative_weights(lams, pseudo)
        for k in range(1, order):
            g_k = sum(float(w[k - 1, j]) * gs[j] for j in range(order))
            acc = acc + _cast(powers[k - 1], fs[0]) * g_k
    d = _cast(decay, rs[0])
    return (a_t / a_s) * d * rs[0] - a_t * d * acc


def _cast(c: Tensor, like: Tensor) -> Tensor:
    return c.to(device=like.device, dtype=like.dtype)


def dpm_solver_v3(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None = None,
    *,
    statistics: StatisticsLike,
    order: int = 2,
    corrector: bool = True,
    predictor_pseudo: bool = False,
    corrector_pseudo: bool = True,
    lower_order_final: bool = True,
    generator: Generators = None,
    callback: Callable[[int, Tensor, Tensor], None] | None = None,
    return_trajectory: bool = False,
) -> Samples:
    """Multistep DPM-Solver-v3 (paper Alg. 2) over the decreasing ``grid`` with empirical model statistics.

    Args:
        statistics: a :class:`ModelStatistics` or the path of a file written by :func:`compute_statistics`;
            its ``lambda`` range must cover the grid's.
        order: predictor order 1-3 (the number of model values it combines).
        corrector: re-solve each step with the next model value (the paper's predictor-corrector, no extra NFE).
        predictor_pseudo: estimate the predictor's derivatives by divided differences (Sec. 3.4).
        corrector_pseudo: corrector of order ``predictor order + 1`` with divided differences (paper default).
        lower_order_final: below 15 steps, cap the order by the number of remaining steps (DPM-Solver's
            rule; with more steps the final low-order steps would cap the global order at 2).

    ``x: (B, *F)``; the statistics have shape ``(N+1, *F')`` with ``F'`` broadcastable to ``F``.
    NFE = ``len(grid) - 1``.
    """
    del generator  # deterministic
    if order not in (1, 2, 3):
        raise ValueError(f"dpm-solver-v3: order must be 1, 2 or 3, got {order}")
    stats = load_statistics(statistics) if not isinstance(statistics, ModelStatistics) else statistics
    lam = process.log_snr(grid.to(torch.float64))
    lo, hi = float(stats.lam[0]), float(stats.lam[-1])
    tol = _LAMBDA_TOL * max(1.0, hi - lo)
    if not bool(torch.isfinite(lam).all()) or float(lam.min()) < lo - tol or float(lam.max()) > hi + tol:
        raise ValueError(
            f"dpm-solver-v3: the grid's log-SNR range [{float(lam.min()):.4g}, {float(lam.max()):.4g}] is not "
            f"covered by the statistics' [{lo:.4g}, {hi:.4g}]; compute them over the sampling range"
        )
    lam = lam.clamp(lo, hi)
    try:
        stats.check_shape(x.shape[1:])
    except ValueError as e:
        raise ValueError(f"dpm-solver-v3: {e}") from None
    coef = process.coefficients64(grid.to(torch.float64))
    a_grid, b_grid = coef.a.tolist(), coef.b.tolist()
    lams = lam.tolist()
    l_grid = stats.interp("l", lam)  # (len(grid), *F)
    coeffs = _Coefficients(stats)
    steps = len(grid) - 1
    traj = [x] if return_trajectory else []
    rs: list[Tensor] = []  # r = x - b y at grid points
    fs: list[Tensor] = []  # f_theta at grid points (eq. 6)
    p_order = 0
    for i in range(steps):
        t = grid[i]
        x0_hat, _ = denoiser(x, t.to(x.dtype).expand(x.shape[0]))
        r = x if y is None or b_grid[i] == 0.0 else x - b_grid[i] * y
        f = (1.0 - _cast(l_grid[i], x)) * r / a_grid[i] - x0_hat.to(x.dtype)
        rs.append(r)
        fs.append(f)
        c_order = p_order + int(corrector_pseudo)
        if corrector and i > 0 and c_order > 1:
            # model value at i re-used (N = a f fixed, so f stays) while r_i is re-solved from i-1
            idx = [i - 1, i] + [i - k for k in range(2, c_order)]
            rs[i] = _update(
                coeffs,
                [lams[j] for j in idx],
                [rs[j] for j in idx],
                [fs[j] for j in idx],
                lams[i],
                a_grid[i - 1],
                a_grid[i],
                corrector_pseudo,
            )
            fs[i] = f  # f_i is defined by the model value N_i, not by the corrected state
        p_order = min(i + 1, order)
        if lower_order_final and steps < _LOWER_ORDER_FINAL_BELOW:
            p_order = min(p_order, steps - i)
        idx = [i - k for k in range(p_order)]
        r_next = _update(
            coeffs,
            [lams[j] for j in idx],
            [rs[j] for j in idx],
            [fs[j] for j in idx],
            lams[i + 1],
            a_grid[i],
            a_grid[i + 1],
            predictor_pseudo,
        )
        x = r_next if y is None or b_grid[i + 1] == 0.0 else r_next + b_grid[i + 1] * y
        if callback is not None:
            callback(i, x, x0_hat)
        if return_trajectory:
            traj.append(x)
    return Samples(x=x, nfe=steps, trajectory=traj)


METHODS: dict[str, Callable[..., Samples]] = {"dpm-solver-v3": dpm_solver_v3}
