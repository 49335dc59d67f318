"""Exponential moving average of network weights."""

from __future__ import annotations

import torch
from torch import nn


def ema_decay_at(step: int, decay: float, warmup: int = 0) -> float:
    """EMA decay at optimizer step ``step``: ``min(decay, (1 + n) / (10 + n))`` with ``n = step - warmup``.

    The ramp (as in DDPM/ADM practice) keeps early averages from being dominated
    by the random initialisation; before ``warmup`` the EMA copies the weights.
    """
    n = step - warmup
    if n < 0:
        return 0.0
    return min(decay, (1.0 + n) / (10.0 + n))


@torch.no_grad()
def ema_update_(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """In place: ``ema = decay * ema + (1 - decay) * model`` for parameters; buffers are copied."""
    ema_params: list[torch.Tensor] = list(ema.parameters())
    params: list[torch.Tensor] = [p.detach() for p in model.parameters()]
    if len(ema_params) != len(params):
        raise RuntimeError("ema_update_: EMA and model have different parameter lists")
    if decay == 0.0:
        torch._foreach_copy_(ema_params, params)
    else:
        torch._foreach_lerp_(ema_params, params, 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b)
