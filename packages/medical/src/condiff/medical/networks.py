"""MONAI's :class:`~monai.networks.nets.DiffusionModelUNet` as a condiff denoiser ``network(x, t, cond_image=...)``."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class MonaiConditionalUNet(nn.Module):
    """``(x, t, cond_image) -> output``: MONAI's DiffusionModelUNet (Pinaya et al. 2022) on ``[x, cond_image]``
    concatenated along channels, 2-D or 3-D.

    MONAI embeds integer-like timesteps in ``[0, 1000)``; condiff's processes run on ``t in [t_min, T]``, so the
    network sees ``time_scale * t / T`` (1000 t for ``T = 1``, as the core's own UNet). ``cond_drop`` (a ``(B,)``
    bool from classifier-free guidance training or sampling) zeroes the condition of the marked samples.

    Args:
        spatial_dims: 2 (slices) or 3 (volumes).
        in_channels: channels of ``x``.
        out_channels: channels of the output (default ``in_channels``).
        cond_channels: channels of ``cond_image`` (0: unconditional).
        channels: feature channels per level (each level after the first halves the resolution).
        num_res_blocks: residual blocks per level.
        attention_levels: self-attention per level (default none; the middle block always has one).
        norm_num_groups: GroupNorm groups (must divide every entry of ``channels``).
        num_head_channels: channels per attention head.
        time_scale: the network sees ``time_scale * t / T``.
        T: the process's final time.
    """

    def __init__(
        self,
        spatial_dims: int = 2,
        in_channels: int = 1,
        out_channels: int | None = None,
        cond_channels: int = 0,
        channels: Sequence[int] = (16, 32),
        num_res_blocks: int = 1,
        attention_levels: Sequence[bool] | None = None,
        norm_num_groups: int = 8,
        num_head_channels: int = 8,
        time_scale: float = 1000.0,
        T: float = 1.0,
    ) -> None:
        super().__init__()
        from monai.networks.nets import DiffusionModelUNet

        if spatial_dims not in (2, 3):
            raise ValueError(f"MonaiConditionalUNet: spatial_dims must be 2 or 3, got {spatial_dims}")
        channels = tuple(int(c) for c in channels)
        bad = [c for c in channels if c % norm_num_groups]
        if bad:
            raise ValueError(
                f"MonaiConditionalUNet: channels {bad} are not divisible by norm_num_groups={norm_num_groups}"
            )
        self.spatial_dims, self.in_channels, self.cond_channels = spatial_dims, in_channels, cond_channels
        self.time_scale, self.T = float(time_scale), float(T)
        self.levels = len(channels)
        self.unet = DiffusionModelUNet(
            spatial_dims=spatial_dims,
            in_channels=in_channels + cond_channels,
            out_channels=out_channels or in_channels,
            num_res_blocks=num_res_blocks,
            channels=channels,
            attention_levels=tuple(attention_levels) if attention_levels is not None else (False,) * len(channels),
            norm_num_groups=norm_num_groups,
            num_head_channels=num_head_channels,
        )

    def forward(
        self, x: Tensor, t: Tensor, cond_image: Tensor | None = None, cond_drop: Tensor | None = None
    ) -> Tensor:
        """``x: (B, C, *spatial)`` with every spatial size divisible by ``2^(levels-1)``; ``t: (B,)`` or scalar."""
        if x.ndim != self.spatial_dims + 2 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"MonaiConditionalUNet expects (B, {self.in_channels}, {self.spatial_dims} spatial dims), "
                f"got {tuple(x.shape)}"
            )
        div = 2 ** (self.levels - 1)
        if any(s % div for s in x.shape[2:]):
            raise ValueError(
                f"MonaiConditionalUNet: spatial sizes must be divisible by {div}, got {tuple(x.shape[2:])}"
            )
        if self.cond_channels:
            if cond_image is None or cond_image.shape[1] != self.cond_channels or cond_image.shape[2:] != x.shape[2:]:
                got = None if cond_image is None else tuple(cond_image.shape)
                raise ValueError(
                    f"MonaiConditionalUNet needs cond_image (B, {self.cond_channels}, ...) like x; got {got}"
                )
            c = cond_image.to(x.dtype)
            if cond_drop is not None:
                keep = (~cond_drop.to(x.device)).to(x.dtype).reshape(-1, *([1] * (x.ndim - 1)))
                c = c * keep
            x = torch.cat([x, c], dim=1)
        t = t.reshape(1).expand(x.shape[0]) if t.ndim == 0 else t
        return self.unet(x, (self.time_scale / self.T) * t.float())
