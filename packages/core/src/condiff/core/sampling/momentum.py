"""Heavy-ball and generalized heavy-ball (GHVB) momentum variants of multistep solvers.

Wizadwongsa et al. (2023), "Diffusion Sampling with Momentum for Mitigating Divergence Artifacts",
applied here to the multistep data-prediction solver (DPM-Solver++ kM, Lu et al. 2022) over the
general path ``x_t = a x0 + b y + s eps``. With ``u = x/s``, ``rho = a/s = e^lambda``:

    d(x/s) = d(a/s) x0_hat + d(b/s) y,   so   u' = u + (rho' - rho) P + (b'/s' - b/s) y

where the ``y`` term is exact and ``P = (1/(rho' - rho)) int x0_hat d rho`` is the step's mean data
prediction. The multistep solver of order ``k`` takes ``x0_hat`` as the degree ``k-1`` polynomial in
``lambda`` through the last ``k`` predictions and integrates ``e^lambda x0_hat`` exactly (phi functions).

* HB (their eq. 13, "DPM-Solver++ with HB"): ``v_n = (1 - beta) v_{n-1} + beta P_n``, step with ``v_n``.
* GHVB (their eq. 15): the momentum acts on the predictions, ``v_n = (1 - beta) v_{n-1} + beta x0_n``,
  and the step uses ``M_k(v) + ((1 - beta)/beta) M_{k-1}(v_n - v_{n-1})`` with ``M_k`` the order-``k``
  multistep mean. Since ``x0_n = v_n + ((1 - beta)/beta)(v_n - v_{n-1})`` exactly, this is the order-``k``
  method with its highest difference of ``v`` dropped; on uniform steps it reproduces the paper's
  coefficients (order 2: ``((2 + beta) v_n - (2 - beta) v_{n-1}) / (2 beta)``) and keeps order ``k``.

``beta = 1`` is the plain multistep solver for both.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.noise import Generators
from condiff.core.sampling.types import Samples

Callback = Callable[[int, Tensor, Tensor], None] | None


def _phi_integrals(h: float) -> tuple[float, float, float]:
    """``I_m = int_0^h e^{tau - h} tau^m / m! d tau = h^{m+1} phi_{m+1}(-h)`` for ``m = 0, 1, 2``.

    Closed form ``I_0 = 1 - e^{-h}``, ``I_m = h^m/m! - I_{m-1}``; a series for small ``h``, where the
    recursion cancels.
    """
    if h < 0.05:
        terms = [sum((-h) ** k / math.factorial(k + j) for k in range(14)) for j in (1, 2, 3)]
        return h * terms[0], h**2 * terms[1], h**3 * terms[2]
    i0 = -math.expm1(-h)
    i1 = h - i0
    return i0, i1, 0.5 * h * h - i1


def _multistep_mean(lams: list[float], values: list[Tensor], order: int, h: float) -> Tensor:
    """Order-``order`` mean ``P`` of ``values`` (newest first, at ``lams``) over the step ``h`` in lambda.

    Taylor form around the newest point: ``P = (I_0 D_0 + I_1 D_1 + I_2 D_2) / I_0`` with ``D_m`` the
    ``m``-th derivative of the interpolating polynomial (DPM-Solver++, Lu et al. 2022, eq. 9-10).
    """
    if order <= 0:
        return torch.zeros_like(values[0])
    if order == 1 or not math.isfinite(h):
        return values[0]
    i0, i1, i2 = _phi_integrals(h)
    d01 = (values[0] - values[1]) / (lams[0] - lams[1])
    if order == 2:
        return values[0] + (i1 / i0) * d01
    d12 = (values[1] - values[2]) / (lams[1] - lams[2])
    d012 = (d01 - d12) / (lams[0] - lams[2])
    d1 = d01 + (lams[0] - lams[1]) * d012
    return values[0] + (i1 / i0) * d1 + (2.0 * i2 / i0) * d012


def _momentum_solver(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None,
    kind: str,
    order: int,
    momentum: float,
    lower_order_final: bool,
    callback: Callback,
    return_trajectory: bool,
) -> Samples:
    if order not in (1, 2, 3):
        raise ValueError(f"dpm-solver++-{kind}: order must be 1, 2 or 3, got {order}")
    if not 0 < momentum <= 1:
        raise ValueError(f"dpm-solver++-{kind}: momentum (beta) must lie in (0, 1], got {momentum}")
    beta, c = float(momentum), (1.0 - momentum) / momentum
    n_steps = len(grid) - 1
    coef = [process.coefficients64(t.to(torch.float64)) for t in grid]
    a = [float(k.a) for k in coef]
    b = [float(k.b) for k in coef]
    s = [float(k.s) for k in coef]
    lam = [math.log(ai / si) if si > 0 else math.inf for ai, si in zip(a, s, strict=True)]
    lams: list[float] = []  # newest first
    hist: list[Tensor] = []  # x0_hat (HB) or v (GHVB), newest first
    dv: list[Tensor] = []  # GHVB: v_n - v_{n-1}, newest first
    vel: Tensor | None = None
    traj = [x] if return_trajectory else []
    for i in range(n_steps):
        tt = torch.full((x.shape[0],), float(grid[i]), dtype=torch.float64, device=x.device)
        x0_hat = denoiser(x, tt)[0].to(x.dtype)
        k = min(order, i + 1)
        if lower_order_final and n_steps < 10:
            k = min(k, n_steps - i)
        if s[i + 1] == 0:
            k = 1
        h = lam[i + 1] - lam[i]
        lams.insert(0, lam[i])
        if kind == "hb":
            hist.insert(0, x0_hat)
            p = _multistep_mean(lams, hist, k, h)
            vel = p if vel is None else (1.0 - beta) * vel + beta * p
            mean = vel
        else:
            v_new = x0_hat if vel is None else (1.0 - beta) * vel + beta * x0_hat
            dv.insert(0, v_new - (x0_hat if vel is None else vel))
            vel = v_new
            hist.insert(0, vel)
            mean = _multistep_mean(lams, hist, k, h) + c * _multistep_mean(lams, dv, k - 1, h)
        del lams[3:], hist[3:], dv[3:]
        x = _step(x, mean, y, a[i + 1], b[i + 1], s[i], s[i + 1], b[i], h)
        if callback is not None:
            callback(i, x, x0_hat)
        if return_trajectory:
            traj.append(x)
    return Samples(x=x, nfe=n_steps, trajectory=traj)


def _step(
    x: Tensor, mean: Tensor, y: Tensor | None, a1: float, b1: float, s0: float, s1: float, b0: float, h: float
) -> Tensor:
    """``x' = (s'/s) x + a' (1 - e^{-h}) P + (b' - s' b / s) y`` (the exact ``y`` and ``x`` terms)."""
    out = (s1 / s0) * x + (a1 * -math.expm1(-h)) * mean
    cy = b1 - s1 * b0 / s0
    if y is not None and cy != 0.0:
        out = out + cy * y.to(x.dtype)
    return out


def dpm_solver_pp_hb(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None = None,
    *,
    order: int = 2,
    momentum: float = 0.8,
    lower_order_final: bool = True,
    generator: Generators = None,
    callback: Callback = None,
    return_trajectory: bool = False,
) -> Samples:
    """Multistep DPM-Solver++ (order 1-3) with Polyak's heavy ball (Wizadwongsa et al. 2023, Sec. 4.1).

    ``momentum`` is their ``beta`` (1 = no momentum). HB is first order for ``beta < 1``. NFE = ``steps``.
    """
    return _momentum_solver(
        denoiser, process, x, grid, y, "hb", order, momentum, lower_order_final, callback, return_trajectory
    )


def dpm_solver_pp_ghvb(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None = None,
    *,
    order: int = 2,
    momentum: float = 0.8,
    lower_order_final: bool = True,
    generator: Generators = None,
    callback: Callback = None,
    return_trajectory: bool = False,
) -> Samples:
    """Multistep DPM-Solver++ with generalized heavy ball (GHVB, Wizadwongsa et al. 2023, Sec. 4.2).

    Keeps order ``order`` for every ``beta = momentum`` in (0, 1]. NFE = ``steps``.
    """
    return _momentum_solver(
        denoiser, process, x, grid, y, "ghvb", order, momentum, lower_order_final, callback, return_trajectory
    )


METHODS: dict[str, Callable[..., Samples]] = {
    "dpm-solver++-hb": dpm_solver_pp_hb,
    "dpm-solver++-ghvb": dpm_solver_pp_ghvb,
}
