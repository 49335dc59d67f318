"""NCSN++ building blocks (Song et al. 2021, score-SDE App. H): FIR resampling, BigGAN residual blocks, attention."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _fir_kernel(taps: tuple[int, ...]) -> Tensor:
    k = torch.tensor(taps, dtype=torch.float32)
    k2 = k[:, None] * k[None, :]
    return k2 / k2.sum()


class FIRDownsample(nn.Module):
    """Blur with the separable FIR kernel ``[1, 3, 3, 1]`` (normalised) and keep every second sample (upfirdn2d)."""

    kernel: Tensor

    def __init__(self, taps: tuple[int, ...] = (1, 3, 3, 1)) -> None:
        super().__init__()
        self.register_buffer("kernel", _fir_kernel(taps), persistent=False)
        p = len(taps) - 2
        self.pads = ((p + 1) // 2, p // 2)

    def forward(self, x: Tensor) -> Tensor:
        c = x.shape[1]
        k = self.kernel.to(x.dtype)[None, None].expand(c, 1, -1, -1)
        x = F.pad(x, (self.pads[0], self.pads[1], self.pads[0], self.pads[1]))
        return F.conv2d(x, k, stride=2, groups=c)


class FIRUpsample(nn.Module):
    """Insert zeros, then filter with ``4 x`` the normalised FIR kernel (upfirdn2d with ``up = 2``)."""

    kernel: Tensor

    def __init__(self, taps: tuple[int, ...] = (1, 3, 3, 1)) -> None:
        super().__init__()
        self.register_buffer("kernel", _fir_kernel(taps) * 4, persistent=False)
        p = len(taps) - 2
        self.pads = ((p + 1) // 2 + 1, p // 2)

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        up = x.new_zeros(b, c, 2 * h, 2 * w)
        up[:, :, ::2, ::2] = x
        k = self.kernel.to(x.dtype)[None, None].expand(c, 1, -1, -1)
        up = F.pad(up, (self.pads[0], self.pads[1], self.pads[0], self.pads[1]))
        return F.conv2d(up, k, groups=c)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(channels // 4, 32), channels, eps=1e-6)


def _zero_init(module: nn.Conv2d | nn.Linear, scale: float = 0.0) -> nn.Module:
    """score-SDE's ``default_init(init_scale)``; ``0`` starts residual branches as the identity."""
    if scale == 0.0:
        nn.init.zeros_(module.weight)
    else:
        nn.init.xavier_uniform_(module.weight, gain=math.sqrt(scale))
    if module.bias is not None:
        nn.init.zeros_(module.bias)
    return module


class GaussianFourierProjection(nn.Module):
    """``[sin(2 pi W v), cos(2 pi W v)]`` with fixed ``W ~ N(0, scale^2)`` (Tancik et al.; score-SDE)."""

    W: Tensor

    def __init__(self, size: int, scale: float = 16.0) -> None:
        super().__init__()
        self.register_buffer("W", torch.randn(size) * scale)

    def forward(self, v: Tensor) -> Tensor:
        proj = v[:, None] * self.W[None, :] * (2 * math.pi)
        return torch.cat([torch.sin(proj), torch.cos(proj)], dim=-1)


class ResnetBlockBigGAN(nn.Module):
    """BigGAN-style residual block with time embedding, optional FIR up/down-sampling, ``(x + h)/sqrt 2``."""

    def __init__(
        self, in_ch: int, out_ch: int, temb_dim: int, up: bool = False, down: bool = False, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.norm0, self.conv0 = _norm(in_ch), nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.dense = _zero_init(nn.Linear(temb_dim, out_ch), 1.0)
        self.norm1, self.conv1 = _norm(out_ch), _zero_init(nn.Conv2d(out_ch, out_ch, 3, padding=1))
        self.dropout = nn.Dropout(dropout)
        self.resample: nn.Module | None = FIRUpsample() if up else FIRDownsample() if down else None
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if (in_ch != out_ch or up or down) else None

    def forward(self, x: Tensor, temb: Tensor) -> Tensor:
        h = F.silu(self.norm0(x))
        if self.resample is not None:
            h, x = self.resample(h), self.resample(x)
        h = self.conv0(h) + self.dense(F.silu(temb))[:, :, None, None]
        h = self.conv1(self.dropout(F.silu(self.norm1(h))))
        if self.skip is not None:
            x = self.skip(x)
        return (x + h) / math.sqrt(2.0)


class AttnBlock(nn.Module):
    """Self-attention over all positions (score-SDE ``AttnBlockpp``, skip rescaled by ``1/sqrt 2``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = _norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = _zero_init(nn.Conv2d(channels, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        a = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return (x + self.out(a.transpose(1, 2).reshape(b, c, h, w))) / math.sqrt(2.0)
