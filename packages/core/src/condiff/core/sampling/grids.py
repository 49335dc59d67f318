"""Time-step grids, independent of the solver that walks them.

A grid is a decreasing float64 tensor of times ``t_0 = t_start > ... > t_N = t_end``; the
first point is exactly ``t_start`` (default ``T``) and the last exactly ``t_end`` (default
``t_min``). Every schedule is defined in a variable of the path (``t``, ``lambda = log(a/s)``
or ``sigma = s/a``) and mapped back to ``t`` by the process's own inverse, so the times
the network sees are the times whose coefficients the solver uses.
:func:`grid_coefficients` evaluates ``a, b, s, lambda`` once per grid in float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess

GRIDS = ("logsnr", "uniform", "quadratic", "karras", "edm")
Schedule = str | Sequence[float] | Tensor

EDM_SIGMA_MIN, EDM_SIGMA_MAX, EDM_RHO = 0.002, 80.0, 7.0


@dataclass(frozen=True)
class GridCoefficients:
    """``t, a, b, s`` and ``lambda = log(a/s)`` (``-inf`` where ``a = 0``, ``+inf`` where ``s = 0``), float64."""

    t: Tensor
    a: Tensor
    b: Tensor
    s: Tensor
    lam: Tensor


def grid_coefficients(process: GaussianProcess, grid: Tensor) -> GridCoefficients:
    """Evaluate the path coefficients on ``grid: (N + 1,)`` once, in float64 on the CPU."""
    t = torch.as_tensor(grid).detach().to("cpu", torch.float64).reshape(-1)
    c = process.coefficients64(t)
    a, b, s = (torch.broadcast_to(torch.as_tensor(v, dtype=torch.float64), t.shape).clone() for v in (c.a, c.b, c.s))
    with torch.no_grad():  # the process's own log_snr is the accurate one (closed forms, no sqrt of 1 - alpha^2)
        lam = torch.broadcast_to(torch.as_tensor(process.log_snr(t), dtype=torch.float64), t.shape).clone()
    lam = torch.where(s <= 0, math.inf, lam)
    lam = torch.where(a <= 0, -math.inf, lam)
    return GridCoefficients(t=t, a=a, b=b, s=s, lam=lam)


def _lam(process: GaussianProcess, t: float) -> float:
    return float(grid_coefficients(process, torch.tensor([t], dtype=torch.float64)).lam[0])


def _inner_ends(process: GaussianProcess, t0: float, t1: float, steps: int) -> tuple[float, float, bool, bool]:
    """Finite-``lambda`` end points for a schedule in ``lambda`` or ``sigma``.

    Where ``a(t_start) = 0`` (``lambda = -inf``: bridges, RDDM, interpolants) the first
    interval is one uniform-``t`` step and the schedule spans the remaining ``steps - 1``
    intervals; likewise at the end where ``s(t_end) = 0`` (``lambda = +inf``).
    """
    du = (t0 - t1) / steps
    lo_open, hi_open = math.isinf(_lam(process, t0)), math.isinf(_lam(process, t1))
    return (t0 - du if lo_open else t0), (t1 + du if hi_open else t1), lo_open, hi_open


def _from_lambda(process: GaussianProcess, lam: Tensor) -> Tensor:
    return process.t_from_log_snr(lam.to(torch.float64))


def _custom(process: GaussianProcess, schedule: Sequence[float] | Tensor, t0: float | None, t1: float | None) -> Tensor:
    grid = torch.as_tensor(schedule, dtype=torch.float64).detach().cpu().reshape(-1).clone()
    if grid.numel() < 2:
        raise ValueError(f"time_grid: a custom schedule needs at least 2 times, got {grid.numel()}")
    if not bool((grid[1:] < grid[:-1]).all()):
        raise ValueError(f"time_grid: a custom schedule must be strictly decreasing, got {grid.tolist()}")
    process.check_time(grid)
    for name, want, got in (("t_start", t0, grid[0]), ("t_end", t1, grid[-1])):
        if want is not None and abs(float(got) - want) > 1e-12 * max(1.0, abs(want)):
            raise ValueError(f"time_grid: custom schedule starts/ends at {float(got)}, but {name}={want}")
    return grid


def time_grid(
    process: GaussianProcess,
    steps: int,
    schedule: Schedule = "logsnr",
    t_start: float | None = None,
    t_end: float | None = None,
    rho: float = 7.0,
) -> Tensor:
    """Decreasing float64 times ``t_0 = t_start > ... > t_steps = t_end``.

    Schedules:
        ``logsnr``: uniform in ``lambda = log(a/s)`` (DPM-Solver, Lu et al. 2022, Sec. 3.3); the default.
        ``uniform``: uniform in ``t``.
        ``quadratic``: ``t = t_end + (t_start - t_end) u^2``, ``u`` uniform (DDIM, Song et al. 2021, App. D.2).
        ``karras``: ``sigma = s/a`` uniform in ``sigma^(1/rho)`` between ``sigma(t_start)`` and
            ``sigma(t_end)`` (Karras et al. 2022, eq. 5; ``rho = 7``).
        ``edm``: the same with EDM's own range ``sigma in [0.002, 80]`` intersected with the
            process's, the end points kept exactly at ``t_start``, ``t_end``.
        a sequence or tensor of times: used as given (checked decreasing and in ``[t_min, T]``;
            ``steps`` is then ignored).

    Where ``a(t_start) = 0`` or ``s(t_end) = 0`` the end has infinite ``lambda`` and
    ``sigma``: the schedules in those variables take one uniform-``t`` step there.
    """
    if not isinstance(schedule, str):
        return _custom(process, schedule, t_start, t_end)
    if steps < 1:
        raise ValueError(f"time_grid: steps must be >= 1, got {steps}")
    t0 = float(process.T if t_start is None else t_start)
    t1 = float(process.t_min if t_end is None else t_end)
    process.check_time(torch.tensor([t0, t1], dtype=torch.float64))
    if not t0 > t1:
        raise ValueError(f"time_grid: need t_start > t_end, got {t0} and {t1}")
    if schedule not in GRIDS:
        raise ValueError(f"time_grid: unknown schedule {schedule!r}; expected one of {GRIDS}")
    u = torch.linspace(1.0, 0.0, steps + 1, dtype=torch.float64)
    if schedule == "uniform":
        grid = t1 + (t0 - t1) * u
    elif schedule == "quadratic":
        grid = t1 + (t0 - t1) * u**2
    else:
        grid = _warped(process, schedule, steps, t0, t1, rho)
    grid[0], grid[-1] = t0, t1  # exact end points whatever the inverse's rounding
    return grid


def _warped(process: GaussianProcess, schedule: str, steps: int, t0: float, t1: float, rho: float) -> Tensor:
    """Schedules in ``lambda`` or ``sigma = e^-lambda``, with one uniform-``t`` step at an infinite end."""
    lo_t, hi_t, lo_open, hi_open = _inner_ends(process, t0, t1, steps)
    n = steps - int(lo_open) - int(hi_open)
    if n < 1:  # one or two steps with infinite ends: uniform in t
        return torch.linspace(t0, t1, steps + 1, dtype=torch.float64)
    lam0, lam1 = _lam(process, lo_t), _lam(process, hi_t)
    if schedule == "logsnr":
        inner = _from_lambda(process, torch.linspace(lam0, lam1, n + 1, dtype=torch.float64))
    else:
        sig_max, sig_min = math.exp(-lam0), math.exp(-lam1)
        r = rho if schedule == "karras" else EDM_RHO
        if schedule == "edm":
            sig_max, sig_min = min(sig_max, EDM_SIGMA_MAX), max(sig_min, EDM_SIGMA_MIN)
            if not sig_max > sig_min:
                sig_max, sig_min = math.exp(-lam0), math.exp(-lam1)
        i = torch.linspace(0.0, 1.0, n + 1, dtype=torch.float64)
        sig = (sig_max ** (1 / r) + i * (sig_min ** (1 / r) - sig_max ** (1 / r))) ** r
        inner = _from_lambda(process, -torch.log(sig))
        if schedule == "edm":  # EDM's range may lie inside the process's: keep the exact ends
            inner[0], inner[-1] = lo_t, hi_t
    parts = [torch.tensor([t0], dtype=torch.float64)] if lo_open else []
    parts.append(inner)
    if hi_open:
        parts.append(torch.tensor([t1], dtype=torch.float64))
    grid = torch.cat(parts)
    if not bool((grid[1:] < grid[:-1]).all()):
        raise ValueError(f"time_grid: schedule {schedule!r} gave a non-decreasing grid for {process!r}")
    return grid
