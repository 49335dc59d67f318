"""Deterministic baselines for conditional trajectory generation: constant velocity and linear interpolation."""

from __future__ import annotations

import torch
from torch import Tensor


def kinematic_baseline(x: Tensor, given: Tensor) -> Tensor:
    """Fill the generated frames of ``x: (M, T, 3)`` from its given frames ``given: (T,)`` bool.

    A generated frame ``s`` between given frames ``p < s < q`` is linearly interpolated,
    ``x_p + (s - p) / (q - p) (x_q - x_p)``; one after the last given frame ``p`` is extrapolated at constant
    velocity, ``x_p + (s - p) (x_p - x_{p'})`` with ``p'`` the given frame before ``p`` (the standard
    constant-velocity forecast; constant position with a single given frame).
    """
    if x.ndim != 3 or given.shape != x.shape[1:2]:
        raise ValueError(f"kinematic_baseline: x (M, T, 3) and given (T,), got {tuple(x.shape)}, {tuple(given.shape)}")
    frames = torch.arange(given.numel(), device=x.device)
    idx = torch.nonzero(given).flatten().to(x.device)
    if idx.numel() == 0:
        raise ValueError("kinematic_baseline: no frame is given")
    # prev: last given frame <= s; nxt: first given frame >= s (clamped to the ends of idx).
    pos = torch.searchsorted(idx, frames, right=True) - 1
    prev = idx[pos.clamp(min=0)]
    nxt_pos = torch.searchsorted(idx, frames, right=False)
    has_next = nxt_pos < idx.numel()
    nxt = idx[nxt_pos.clamp(max=idx.numel() - 1)]
    before = idx[(pos - 1).clamp(min=0)]
    out = x.clone()
    xp, xn, xb = x[:, prev], x[:, nxt], x[:, before]
    span = (nxt - prev).clamp(min=1).to(x.dtype)
    interp = xp + ((frames - prev).to(x.dtype) / span)[None, :, None] * (xn - xp)
    step = (prev - before).clamp(min=1).to(x.dtype)
    extrap = xp + ((frames - prev).to(x.dtype) / step)[None, :, None] * (xp - xb)
    fill = torch.where(has_next[None, :, None], interp, extrap)
    return torch.where(given[None, :, None].to(x.device), out, fill)
