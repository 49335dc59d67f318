"""Trajectory errors over K samples: minADE / minFDE (GeoTDM, Sec. 5.2; as its N-body evaluation computes them).

For sample ``k`` of system ``b``: ``ADE_kb = mean_{s generated} mean_{i in b} |x^k_is - x_is|`` and
``FDE_kb = mean_{i in b} |x^k_iS - x_iS|`` at the last generated frame ``S``; ``minADE_b = min_k ADE_kb`` and
``minFDE_b = min_k FDE_kb`` (each minimised on its own), averaged over systems by the caller.
"""

from __future__ import annotations

import torch
from torch import Tensor


def displacement_errors(samples: Tensor, target: Tensor, batch: Tensor, generated: Tensor) -> tuple[Tensor, Tensor]:
    """ADE and FDE of every sample and system.

    Args:
        samples: ``(K, M, T, 3)`` or ``(M, T, 3)`` generated trajectories.
        target: ``(M, T, 3)`` ground truth.
        batch: ``(M,)`` system index of every node.
        generated: ``(T,)`` bool, the frames that are scored.

    Returns:
        ``ade, fde: (K, B)`` (``K = 1`` for a single sample).
    """
    if samples.ndim == 3:
        samples = samples[None]
    if samples.shape[1:] != target.shape or target.ndim != 3:
        raise ValueError(
            f"displacement_errors: samples (K, M, T, 3) {tuple(samples.shape)} vs target {tuple(target.shape)}"
        )
    if generated.shape != target.shape[1:2] or not bool(generated.any()):
        raise ValueError(f"displacement_errors: generated must be ({target.shape[1]},) with a True frame")
    dist = (samples[:, :, generated] - target[None, :, generated]).norm(dim=-1)  # (K, M, T_f)
    b = int(batch.max()) + 1
    per_system = dist.new_zeros(dist.shape[0], b, dist.shape[2]).index_add_(1, batch, dist)
    per_system = per_system / torch.bincount(batch, minlength=b).to(dist.dtype)[None, :, None]
    return per_system.mean(dim=2), per_system[:, :, -1]


def min_ade_fde(samples: Tensor, target: Tensor, batch: Tensor, generated: Tensor) -> tuple[Tensor, Tensor]:
    """``minADE, minFDE: (B,)`` over the ``K`` samples ``samples: (K, M, T, 3)``."""
    ade, fde = displacement_errors(samples, target, batch, generated)
    return ade.min(dim=0).values, fde.min(dim=0).values
