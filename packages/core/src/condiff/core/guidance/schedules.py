"""Guidance-weight schedules ``w(t)``: a number, or a function of the time ``t: (B,) -> (B,)``.

A schedule is evaluated on the process's normalised time ``u = (t - t_min) / (T - t_min)`` in
``[0, 1]`` (``u = 1`` at the prior), so one schedule serves every process.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess

Schedule = float | Callable[[Tensor], Tensor]


def weight_at(schedule: Schedule, t: Tensor, process: GaussianProcess) -> Tensor:
    """``w(u(t))`` as a float64 tensor shaped like ``t`` (a number is a constant schedule)."""
    t = torch.as_tensor(t, dtype=torch.float64)
    if not callable(schedule):
        return torch.full_like(t, float(schedule))
    u = (t - process.t_min) / (process.T - process.t_min)
    w = torch.as_tensor(schedule(u), dtype=torch.float64)
    if not bool(torch.isfinite(w).all()):
        raise ValueError(f"guidance schedule returned non-finite weights at u = {u.tolist()}")
    return torch.broadcast_to(w, t.shape)


def linear(w_prior: float, w_data: float) -> Callable[[Tensor], Tensor]:
    """``w(u) = w_data + (w_prior - w_data) u``: ``w_prior`` at the prior, ``w_data`` at the data end."""
    return lambda u: w_data + (w_prior - w_data) * u


def cosine(w_max: float, w_min: float = 0.0) -> Callable[[Tensor], Tensor]:
    """``w(u) = w_min + (w_max - w_min) (1 - cos(pi u)) / 2``: small near the data, largest at the prior.

    The "cosine" CFG schedule of Gao et al. (2023, MDT; also Wang et al. 2024 "Analysis of
    classifier-free guidance weight schedulers", where increasing-in-noise schedules are compared).
    """
    return lambda u: w_min + (w_max - w_min) * 0.5 * (1.0 - torch.cos(math.pi * u))


def interval(w: float, u_low: float, u_high: float, outside: float = 1.0) -> Callable[[Tensor], Tensor]:
    """``w`` inside ``u_low <= u <= u_high`` and ``outside`` elsewhere.

    Guidance in a limited interval (Kynkaanniemi et al. 2024): no guidance (``w = 1``) at the
    highest and lowest noise levels.
    """
    if not 0.0 <= u_low <= u_high <= 1.0:
        raise ValueError(f"interval: need 0 <= u_low <= u_high <= 1, got {u_low}, {u_high}")
    return lambda u: torch.where((u >= u_low) & (u <= u_high), torch.full_like(u, w), torch.full_like(u, outside))
