"""2-D smoke trajectories as multi-channel images: every frame of every field is one channel on the ``n x n`` grid.

WDNO generates the whole trajectory at once. For the 2-D task the fields ``density (B, T, n, n)``,
``velocity (B, T, 2, n, n)`` and ``force (B, T - 1, 2, n, n)`` are stacked frame by frame as channels:

    fields = [rho_0..rho_{T-1}, vx_0..vx_{T-1}, vy_0..vy_{T-1}, fx_0..fx_{T-2}, fy_0..fy_{T-2}]: (B, 5T - 2, n, n)

and the codec (:class:`condiff.pde.codec.WaveletCodec`) takes the 2-D DWT over ``(y, x)`` and packs the
subbands as channels. (The reference code takes a 3-D DWT over ``(t, y, x)`` for a 3-D UNet; condiff's core
network is the 2-D :class:`~condiff.core.networks.ConditionalUNet`, which mixes the frames through its channels.)
The initial density is the condition image ``(B, 1, n, n)``.
"""

from __future__ import annotations

import torch
from torch import Tensor


def smoke_field_channels(frames: int) -> int:
    """Channels ``5 T - 2`` of the field image of a trajectory with ``T`` frames."""
    return 5 * frames - 2


def force_channels(frames: int) -> list[int]:
    """Indices of the force channels ``3 T .. 5 T - 3`` in the field image."""
    return list(range(3 * frames, smoke_field_channels(frames)))


def smoke_fields(density: Tensor, velocity: Tensor, force: Tensor) -> Tensor:
    """``density (B, T, n, n)``, ``velocity (B, T, 2, n, n)``, ``force (B, T - 1, 2, n, n)``
    -> ``(B, 5T - 2, n, n)``."""
    b, t, n, m = density.shape
    if velocity.shape != (b, t, 2, n, m) or force.shape != (b, t - 1, 2, n, m):
        raise ValueError(
            f"need density (B, T, n, n), velocity (B, T, 2, n, n), force (B, T - 1, 2, n, n); got "
            f"{tuple(density.shape)}, {tuple(velocity.shape)}, {tuple(force.shape)}"
        )
    return torch.cat([density, velocity[:, :, 0], velocity[:, :, 1], force[:, :, 0], force[:, :, 1]], dim=1)


def split_smoke_fields(fields: Tensor, frames: int) -> tuple[Tensor, Tensor, Tensor]:
    """Inverse of :func:`smoke_fields`: ``(density, velocity, force)``."""
    t = frames
    if fields.dim() != 4 or fields.shape[1] != smoke_field_channels(t):
        raise ValueError(f"fields must be (B, {smoke_field_channels(t)}, n, n) for T = {t}, got {tuple(fields.shape)}")
    density = fields[:, :t]
    velocity = torch.stack([fields[:, t : 2 * t], fields[:, 2 * t : 3 * t]], dim=2)
    force = torch.stack([fields[:, 3 * t : 4 * t - 1], fields[:, 4 * t - 1 :]], dim=2)
    return density, velocity, force
