"""A conditional UNet (DDPM / ADM style) for images: configurable width, depth and self-attention."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from condiff.core.networks.embeddings import ClassEmbedding, TimeEmbedding


def _norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, ch), ch)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-Conv residual block with a FiLM (scale, shift) embedding, ADM eq. (Dhariwal & Nichol 2021)."""

    def __init__(self, cin: int, cout: int, emb_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm1 = _norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, 2 * cout)
        self.norm2 = _norm(cout)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)  # type: ignore[arg-type]
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(nn.functional.silu(self.norm1(x)))
        scale, shift = self.emb(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.drop(nn.functional.silu(h)))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """Multi-head self-attention over the ``H W`` positions with a residual connection (ADM's AttentionBlock).

    The output projection starts at zero, so an added block is the identity at initialisation.
    """

    def __init__(self, ch: int, heads: int = 1) -> None:
        super().__init__()
        if ch % heads:
            raise ValueError(f"SelfAttention: channels {ch} not divisible by heads {heads}")
        self.heads = heads
        self.norm = _norm(ch)
        self.qkv = nn.Conv2d(ch, 3 * ch, 1)
        self.proj = nn.Conv2d(ch, ch, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)  # type: ignore[arg-type]

    def forward(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).transpose(-1, -2).unbind(1)
        out = nn.functional.scaled_dot_product_attention(q, k, v)  # (B, heads, HW, C/heads)
        return x + self.proj(out.transpose(-1, -2).reshape(b, c, h, w))


class _Stage(nn.Module):
    """A ResBlock optionally followed by self-attention."""

    def __init__(self, cin: int, cout: int, emb_dim: int, dropout: float, attention: bool, heads: int) -> None:
        super().__init__()
        self.block = ResBlock(cin, cout, emb_dim, dropout)
        self.attn = SelfAttention(cout, heads) if attention else None

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.block(x, emb)
        return h if self.attn is None else self.attn(h)


class ConditionalUNet(nn.Module):
    """UNet ``(x, t, labels) -> output`` (DDPM / ADM style) with optional class and image conditioning.

    Each level has ``num_res_blocks`` ResBlocks on the way down and as many on the way up, each
    up block taking the matching down block's output as a skip connection; self-attention
    follows the blocks of the levels in ``attention_levels`` and the middle block if ``mid_attention``.

    Args:
        in_channels: channels of ``x``.
        out_channels: channels of the output (defaults to ``in_channels``).
        base_channels: channels at the first level.
        channel_mults: channel multiplier per level; each level after the first halves the resolution.
        num_classes: number of class labels (0 for unconditional).
        cond_channels: channels of an image condition concatenated to ``x`` (0 for none).
        dropout: dropout inside the blocks.
        num_res_blocks: ResBlocks per level (depth).
        attention_levels: indices of the levels (0 = full resolution) with self-attention.
        mid_attention: self-attention in the middle block.
        attention_heads: heads of every attention block.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int | None = None,
        base_channels: int = 32,
        channel_mults: tuple[int, ...] | list[int] = (1, 2),
        num_classes: int = 0,
        cond_channels: int = 0,
        dropout: float = 0.0,
        num_res_blocks: int = 1,
        attention_levels: tuple[int, ...] | list[int] = (),
        mid_attention: bool = False,
        attention_heads: int = 1,
    ) -> None:
        super().__init__()
        out_channels = out_channels or in_channels
        if num_res_blocks < 1:
            raise ValueError(f"ConditionalUNet: num_res_blocks must be >= 1, got {num_res_blocks}")
        bad = [lvl for lvl in attention_levels if not 0 <= lvl < len(channel_mults)]
        if bad:
            raise ValueError(f"ConditionalUNet: attention_levels {bad} outside the {len(channel_mults)} levels")
        emb_dim = 4 * base_channels
        self.in_channels = in_channels
        self.cond_channels = cond_channels
        self.time = TimeEmbedding(emb_dim)
        self.classes = ClassEmbedding(num_classes, emb_dim) if num_classes > 0 else None
        chans = [base_channels * m for m in channel_mults]
        self.inp = nn.Conv2d(in_channels + cond_channels, chans[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        c = chans[0]
        for i, ch in enumerate(chans):
            attn = i in attention_levels
            stages = []
            for _ in range(num_res_blocks):
                stages.append(_Stage(c, ch, emb_dim, dropout, attn, attention_heads))
                c = ch
            self.down.append(nn.ModuleList(stages))
            self.downsample.append(nn.Conv2d(c, c, 3, stride=2, padding=1) if i < len(chans) - 1 else nn.Identity())
        self.mid = _Stage(c, c, emb_dim, dropout, mid_attention, attention_heads)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i, ch in reversed(list(enumerate(chans))):
            attn = i in attention_levels
            stages = []
            for _ in range(num_res_blocks):
                stages.append(_Stage(c + ch, ch, emb_dim, dropout, attn, attention_heads))
                c = ch
            self.up.append(nn.ModuleList(stages))
            self.upsample.append(nn.Upsample(scale_factor=2, mode="nearest") if i > 0 else nn.Identity())
        self.out = nn.Sequential(_norm(c), nn.SiLU(), nn.Conv2d(c, out_channels, 3, padding=1))
        self._levels = len(chans)

    def forward(
        self,
        x: Tensor,
        t: Tensor,
        labels: Tensor | None = None,
        cond_drop: Tensor | None = None,
        cond_image: Tensor | None = None,
    ) -> Tensor:
        """``x: (B, C, H, W)`` with ``H, W`` divisible by ``2^(levels-1)``; ``t: (B,)``."""
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ConditionalUNet expects (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if x.shape[-1] % 2 ** (self._levels - 1) or x.shape[-2] % 2 ** (self._levels - 1):
            raise ValueError(
                f"ConditionalUNet: H and W must be divisible by {2 ** (self._levels - 1)}, got {tuple(x.shape[-2:])}"
            )
        b = x.shape[0]
        emb = self.time(t.expand(b) if t.ndim == 0 else t)
        if self.classes is not None:
            emb = emb + self.classes(labels, b, x.device, cond_drop)
        if self.cond_channels:
            if cond_image is None or cond_image.shape[1] != self.cond_channels:
                raise ValueError(f"ConditionalUNet needs cond_image with {self.cond_channels} channels")
            x = torch.cat([x, cond_image.to(x.dtype)], dim=1)
        h = self.inp(x)
        skips = []
        for stages, down in zip(self.down, self.downsample, strict=True):
            for stage in stages:  # type: ignore[attr-defined]
                h = stage(h, emb)
                skips.append(h)
            h = down(h)
        h = self.mid(h, emb)
        for stages, up in zip(self.up, self.upsample, strict=True):
            for stage in stages:  # type: ignore[attr-defined]
                h = stage(torch.cat([h, skips.pop()], dim=1), emb)
            h = up(h)
        return self.out(h)
