"""Time-step grids, independent of the solver that walks them."""

from __future__ import annotations

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess

GRIDS = ("logsnr", "uniform")


def time_grid(
    process: GaussianProcess,
    steps: int,
    schedule: str = "logsnr",
    t_start: float | None = None,
    t_end: float | None = None,
) -> Tensor:
    """Decreasing float64 times ``t_0 = t_start > ... > t_steps = t_end``.

    ``logsnr``: uniform in ``lambda = log(a/s)`` (DPM-Solver's default);
    ``uniform``: uniform in ``t``.
    """
    if steps < 1:
        raise ValueError(f"time_grid: steps must be >= 1, got {steps}")
    t0 = float(process.T if t_start is None else t_start)
    t1 = float(process.t_min if t_end is None else t_end)
    process.check_time(torch.tensor([t0, t1], dtype=torch.float64))
    if not t0 > t1:
        raise ValueError(f"time_grid: need t_start > t_end, got {t0} and {t1}")
    if schedule == "uniform":
        return torch.linspace(t0, t1, steps + 1, dtype=torch.float64)
    if schedule == "logsnr":
        lam = process.log_snr(torch.tensor([t0, t1], dtype=torch.float64))
        grid = process.t_from_log_snr(torch.linspace(float(lam[0]), float(lam[1]), steps + 1, dtype=torch.float64))
        grid[0], grid[-1] = t0, t1  # exact end points whatever the inverse's rounding
        return grid
    raise ValueError(f"time_grid: unknown schedule {schedule!r}; expected one of {GRIDS}")
