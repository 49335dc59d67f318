"""NCSN++ (Song et al. 2021) as configured by SGMSE+ (Richter et al. 2023, Sec. 4.2) for complex spectrograms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from condiff.speech.networks.layers import (
    AttnBlock,
    FIRDownsample,
    FIRUpsample,
    GaussianFourierProjection,
    ResnetBlockBigGAN,
    _norm,
    _zero_init,
)


class NCSNpp(nn.Module):
    """Conditional NCSN++: ``F(x_t, t, cond_spec) -> (B, 2, F, T)``.

    The state ``x_t`` and the noisy spectrogram ``cond_spec`` (each two channels, real and
    imaginary part) are concatenated into four input channels (SGMSE+ Sec. 4.2). BigGAN residual
    blocks with FIR resampling, the progressive ``input_skip`` input pyramid and ``output_skip``
    output pyramid combined by ``sum``, attention at the levels in ``attn_levels`` and a Gaussian
    Fourier embedding of ``log t`` (scale 16), as in sgmse's ``NCSNpp``. The paper's network is
    ``channels=128, channel_mults=(1, 1, 2, 2, 2, 2, 2), num_res_blocks=2, attn_levels=(4,)``
    (attention at 16 frequency bins of 256). Inputs of any size are zero-padded to a multiple of
    ``2^(levels-1)`` and the output is cropped back.

    Args:
        channels: base width ``nf``.
        channel_mults: width multiplier per resolution level.
        num_res_blocks: residual blocks per level.
        attn_levels: level indices (0 = full resolution) with self-attention.
        in_channels: channels of ``x_t`` (2: real, imaginary).
        cond_channels: channels of ``cond_spec`` (0: unconditional).
        out_channels: output channels.
        fourier_scale: standard deviation of the Fourier embedding's frequencies.
        time_input: ``log`` embeds ``log t`` (sgmse; needs ``t > 0``), ``linear`` embeds ``t`` itself.
        dropout: dropout inside residual blocks.
    """

    def __init__(
        self,
        channels: int = 128,
        channel_mults: Sequence[int] = (1, 1, 2, 2, 2, 2, 2),
        num_res_blocks: int = 2,
        attn_levels: Sequence[int] = (4,),
        in_channels: int = 2,
        cond_channels: int = 2,
        out_channels: int = 2,
        fourier_scale: float = 16.0,
        time_input: str = "log",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if time_input not in ("log", "linear"):
            raise ValueError(f"NCSNpp: time_input must be 'log' or 'linear', got {time_input!r}")
        nf, mults = int(channels), [int(m) for m in channel_mults]
        self.levels, self.time_input, self.in_channels = len(mults), time_input, in_channels + cond_channels
        self.cond_channels = cond_channels
        temb = 4 * nf
        self.fourier = GaussianFourierProjection(nf, fourier_scale)
        self.temb = nn.Sequential(nn.Linear(2 * nf, temb), nn.SiLU(), nn.Linear(temb, temb))
        attn = set(int(a) for a in attn_levels)

        self.stem = nn.Conv2d(self.in_channels, nf, 3, padding=1)
        self.pyramid_down = FIRDownsample()
        self.down: nn.ModuleList = nn.ModuleList()
        skips = [nf]
        ch = nf
        for lvl, m in enumerate(mults):
            for _ in range(num_res_blocks):
                self.down.append(ResnetBlockBigGAN(ch, nf * m, temb, dropout=dropout))
                ch = nf * m
                if lvl in attn:
                    self.down.append(AttnBlock(ch))
                skips.append(ch)
            if lvl != len(mults) - 1:
                self.down.append(ResnetBlockBigGAN(ch, ch, temb, down=True, dropout=dropout))
                self.down.append(nn.Conv2d(self.in_channels, ch, 1))  # input_skip combiner ("sum")
                skips.append(ch)
        self.mid = nn.ModuleList(
            [
                ResnetBlockBigGAN(ch, ch, temb, dropout=dropout),
                AttnBlock(ch),
                ResnetBlockBigGAN(ch, ch, temb, dropout=dropout),
            ]
        )
        self.up: nn.ModuleList = nn.ModuleList()
        self.pyramid_up = FIRUpsample()
        for lvl in reversed(range(len(mults))):
            for _ in range(num_res_blocks + 1):
                self.up.append(ResnetBlockBigGAN(ch + skips.pop(), nf * mults[lvl], temb, dropout=dropout))
                ch = nf * mults[lvl]
            if lvl in attn:
                self.up.append(AttnBlock(ch))
            # output_skip: this level's image-space output, added to the upsampled coarser one.
            self.up.append(
                nn.Sequential(_norm(ch), nn.SiLU(), _zero_init(nn.Conv2d(ch, out_channels, 3, padding=1), 1e-10))
            )
            if lvl != 0:
                self.up.append(ResnetBlockBigGAN(ch, ch, temb, up=True, dropout=dropout))
        assert not skips

    @property
    def multiple(self) -> int:
        """Spatial sizes are padded to a multiple of this (``2^(levels-1)``)."""
        return 2 ** (self.levels - 1)

    def forward(self, x: Tensor, t: Tensor, cond_spec: Tensor | None = None, **_: Any) -> Tensor:
        """``x: (B, 2, F, T)``, ``t: (B,)``, ``cond_spec: (B, 2, F, T)`` -> ``(B, 2, F, T)``."""
        if self.cond_channels:
            if cond_spec is None or cond_spec.shape != x.shape:
                got = None if cond_spec is None else tuple(cond_spec.shape)
                raise ValueError(f"NCSNpp: cond_spec must have the shape of x {tuple(x.shape)}, got {got}")
            inp = torch.cat([x, cond_spec.to(x.dtype)], dim=1)
        else:
            inp = x
        if inp.shape[1] != self.in_channels:
            raise ValueError(f"NCSNpp: expected {self.in_channels} input channels, got {inp.shape[1]}")
        h_in, w_in = inp.shape[-2:]
        m = self.multiple
        inp = F.pad(inp, (0, -w_in % m, 0, -h_in % m))
        t = t.to(x.dtype).expand(x.shape[0]) if t.ndim == 0 else t.to(x.dtype)
        temb = self.temb(self.fourier(torch.log(t) if self.time_input == "log" else t))

        pyramid = inp
        h = self.stem(inp)
        hs = [h]
        blocks = iter(self.down)
        for block in blocks:
            if isinstance(block, ResnetBlockBigGAN) and block.resample is not None:
                h = block(h, temb)
                pyramid = self.pyramid_down(pyramid)
                h = h + next(blocks)(pyramid)
            elif isinstance(block, AttnBlock):
                h = block(h)
                hs[-1] = h
                continue
            else:
                h = block(h, temb)
            hs.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, temb)), temb)
        out: Tensor | None = None
        for block in self.up:
            if isinstance(block, ResnetBlockBigGAN) and block.resample is None:
                h = block(torch.cat([h, hs.pop()], dim=1), temb)
            elif isinstance(block, ResnetBlockBigGAN):
                h = block(h, temb)
            elif isinstance(block, AttnBlock):
                h = block(h)
            else:
                level_out = block(h)
                out = level_out if out is None else self.pyramid_up(out) + level_out
        assert out is not None
        assert not hs
        return out[..., :h_in, :w_in]
