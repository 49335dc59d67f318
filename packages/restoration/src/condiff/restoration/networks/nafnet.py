"""NAFNet (Chen et al. 2022, "Simple Baselines for Image Restoration") conditioned on diffusion time.

Blocks follow the paper's NAFBlock (LayerNorm, 1x1 conv to 2c, 3x3 depth-wise conv, SimpleGate,
simplified channel attention, 1x1 conv, learnable residual scale; then a gated feed-forward part).
As in IR-SDE's conditional NAFNet, a time embedding modulates every block (scale and shift after
each LayerNorm), and the degraded image is concatenated to the input.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from condiff.core.networks.embeddings import TimeEmbedding


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of ``(B, C, H, W)``."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        return (x - mu) / torch.sqrt(var + self.eps) * self.weight[:, None, None] + self.bias[:, None, None]


def simple_gate(x: Tensor) -> Tensor:
    """SimpleGate: split the channels in two halves and multiply them (NAFNet eq. 4)."""
    a, b = x.chunk(2, dim=1)
    return a * b


class NAFBlock(nn.Module):
    """NAFNet block with time modulation ``(1 + scale) * LN(x) + shift`` on both halves."""

    def __init__(self, c: int, emb_dim: int) -> None:
        super().__init__()
        self.emb = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, 4 * c))
        self.norm1, self.norm2 = LayerNorm2d(c), LayerNorm2d(c)
        self.conv1 = nn.Conv2d(c, 2 * c, 1)
        self.dw = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c)
        self.sca = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c, 1))
        self.conv2 = nn.Conv2d(c, c, 1)
        self.ffn1 = nn.Conv2d(c, 2 * c, 1)
        self.ffn2 = nn.Conv2d(c, c, 1)
        self.beta = nn.Parameter(torch.zeros(1, c, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        s1, b1, s2, b2 = self.emb(emb)[:, :, None, None].chunk(4, dim=1)
        h = self.norm1(x) * (1 + s1) + b1
        h = simple_gate(self.dw(self.conv1(h)))
        h = self.conv2(h * self.sca(h))
        x = x + self.beta * h
        h = self.norm2(x) * (1 + s2) + b2
        return x + self.gamma * self.ffn2(simple_gate(self.ffn1(h)))


class _Stage(nn.Module):
    def __init__(self, c: int, n: int, emb_dim: int) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(NAFBlock(c, emb_dim) for _ in range(n))

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x, emb)
        return x


class ConditionalNAFNet(nn.Module):
    """U-shaped NAFNet ``(x, t, cond_image) -> output`` for diffusion restoration.

    Args:
        in_channels: channels of ``x``.
        out_channels: output channels (``2 * in_channels`` for RDDM's two heads; default ``in_channels``).
        cond_channels: channels of the degraded image concatenated to ``x`` (0 for none).
        width: channels of the first level (doubled at every level down).
        enc_blocks: NAF blocks per encoder level (its length is the number of down-samplings).
        middle_blocks: NAF blocks at the bottom.
        dec_blocks: NAF blocks per decoder level (same length as ``enc_blocks``).
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int | None = None,
        cond_channels: int = 3,
        width: int = 32,
        enc_blocks: tuple[int, ...] | list[int] = (1, 1, 1),
        middle_blocks: int = 1,
        dec_blocks: tuple[int, ...] | list[int] = (1, 1, 1),
    ) -> None:
        super().__init__()
        if len(enc_blocks) != len(dec_blocks):
            raise ValueError(f"ConditionalNAFNet: enc_blocks {enc_blocks} and dec_blocks {dec_blocks} differ in length")
        self.in_channels, self.cond_channels, self.levels = in_channels, cond_channels, len(enc_blocks)
        emb_dim = 4 * width
        self.time = TimeEmbedding(emb_dim)
        self.intro = nn.Conv2d(in_channels + cond_channels, width, 3, padding=1)
        self.encoders, self.downs, self.decoders, self.ups = (
            nn.ModuleList(),
            nn.ModuleList(),
            nn.ModuleList(),
            nn.ModuleList(),
        )
        c = width
        for n in enc_blocks:
            self.encoders.append(_Stage(c, n, emb_dim))
            self.downs.append(nn.Conv2d(c, 2 * c, 2, stride=2))
            c *= 2
        self.middle = _Stage(c, middle_blocks, emb_dim)
        for n in dec_blocks:
            self.ups.append(nn.Sequential(nn.Conv2d(c, 2 * c, 1, bias=False), nn.PixelShuffle(2)))
            c //= 2
            self.decoders.append(_Stage(c, n, emb_dim))
        self.ending = nn.Conv2d(width, out_channels or in_channels, 3, padding=1)

    def forward(self, x: Tensor, t: Tensor, cond_image: Tensor | None = None, **_: Any) -> Tensor:
        """``x: (B, C, H, W)`` with ``H, W`` divisible by ``2^levels``; ``t: (B,)``."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ConditionalNAFNet expects (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if x.shape[-1] % 2**self.levels or x.shape[-2] % 2**self.levels:
            raise ValueError(
                f"ConditionalNAFNet: H and W must be divisible by {2**self.levels}, got {tuple(x.shape[-2:])}"
            )
        if self.cond_channels:
            if cond_image is None or cond_image.shape[1] != self.cond_channels:
                raise ValueError(f"ConditionalNAFNet needs cond_image with {self.cond_channels} channels")
            x = torch.cat([x, cond_image.to(x.dtype)], dim=1)
        emb = self.time(t.expand(x.shape[0]) if t.ndim == 0 else t)
        h = self.intro(x)
        skips = []
        for enc, down in zip(self.encoders, self.downs, strict=True):
            h = enc(h, emb)
            skips.append(h)
            h = down(h)
        h = self.middle(h, emb)
        for up, dec in zip(self.ups, self.decoders, strict=True):
            h = dec(up(h) + skips.pop(), emb)
        return self.ending(h)
