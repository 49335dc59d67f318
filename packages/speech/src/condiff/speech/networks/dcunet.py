"""Deep Complex U-Net (DCUNet, Choi et al. 2019, "Phase-aware speech enhancement with deep complex U-Net") as a
score / data network for complex spectrograms, the alternative backbone SGMSE+ offers besides NCSN++.

Every layer is complex: a complex convolution ``W * h = (W_r * h_r - W_i * h_i) + i (W_r * h_i + W_i * h_r)`` (two
real convolutions), a norm applied to the real and imaginary parts separately (group norm, not batch norm: a
diffusion network sees a different noise level in every item of a batch), and the complex leaky ReLU
``CLReLU(h) = LReLU(h_r) + i LReLU(h_i)``. The encoder halves the frequency axis (and, where the stride says so,
the time axis) at every level; the decoder mirrors it with transposed complex convolutions and concatenates the
encoder's features (skip connections). The diffusion time enters through a Gaussian Fourier embedding of ``log t``
(or ``t``) added, after a learned projection, to the real and imaginary parts of every encoder and decoder
block. The input is ``x_t`` and the noisy spectrogram as two complex channels; the output is one complex channel
(no mask: the network predicts what the parameterization asks for, as in SGMSE+).

``DCUNet-10`` of Choi et al. (Table 1): encoder kernels ``(7,5), (7,5), (5,3), (5,3), (5,3)``, strides ``(2,2),
(2,1), (2,2), (2,1), (2,1)`` over (frequency, time), 45 / 90 channels (complex); the default here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from condiff.speech.networks.layers import GaussianFourierProjection

DCUNET10_KERNELS: tuple[tuple[int, int], ...] = ((7, 5), (7, 5), (5, 3), (5, 3), (5, 3))
DCUNET10_STRIDES: tuple[tuple[int, int], ...] = ((2, 2), (2, 1), (2, 2), (2, 1), (2, 1))
DCUNET10_CHANNELS: tuple[int, ...] = (45, 90, 90, 90, 90)


class ComplexConv2d(nn.Module):
    """``(W_r + i W_i) * (h_r + i h_i) + (b_r + i b_i)`` on ``(B, 2C, F, T)`` tensors holding ``[real parts |
    imaginary parts]``: two bias-free real convolutions and a complex bias."""

    def __init__(
        self, cin: int, cout: int, kernel: tuple[int, int], stride: tuple[int, int], transpose: bool = False
    ) -> None:
        super().__init__()
        padding = (kernel[0] // 2, kernel[1] // 2)
        if transpose:
            extra = (stride[0] - 1, stride[1] - 1)
            self.re: nn.Module = nn.ConvTranspose2d(cin, cout, kernel, stride, padding, extra, bias=False)
            self.im: nn.Module = nn.ConvTranspose2d(cin, cout, kernel, stride, padding, extra, bias=False)
        else:
            self.re = nn.Conv2d(cin, cout, kernel, stride, padding, bias=False)
            self.im = nn.Conv2d(cin, cout, kernel, stride, padding, bias=False)
        self.bias = nn.Parameter(torch.zeros(2 * cout))

    def forward(self, h: Tensor) -> Tensor:
        hr, hi = h.chunk(2, dim=1)
        out = torch.cat([self.re(hr) - self.im(hi), self.re(hi) + self.im(hr)], dim=1)
        return out + self.bias[None, :, None, None]


class _ComplexBlock(nn.Module):
    """Complex convolution, separate group norm of the real and imaginary parts, time embedding, CLReLU."""

    def __init__(
        self, cin: int, cout: int, kernel: tuple[int, int], stride: tuple[int, int], temb_dim: int, transpose: bool
    ) -> None:
        super().__init__()
        self.conv = ComplexConv2d(cin, cout, kernel, stride, transpose)
        groups = next(g for g in (8, 5, 4, 3, 2, 1) if cout % g == 0)
        self.norm_re, self.norm_im = nn.GroupNorm(groups, cout), nn.GroupNorm(groups, cout)
        self.temb = nn.Linear(temb_dim, 2 * cout)

    def forward(self, h: Tensor, temb: Tensor) -> Tensor:
        hr, hi = self.conv(h).chunk(2, dim=1)
        h = torch.cat([self.norm_re(hr), self.norm_im(hi)], dim=1) + self.temb(temb)[:, :, None, None]
        return F.leaky_relu(h, 0.1)


class DCUNet(nn.Module):
    """Conditional DCUNet ``F(x_t, t, cond_spec) -> (B, 2, F, T)`` (module docstring).

    Args:
        channels: complex channels of each encoder level (the decoder mirrors them).
        kernels, strides: per encoder level, over (frequency, time).
        in_channels: real channels of ``x_t`` (2: real, imaginary); ``cond_channels`` those of ``cond_spec``.
        out_channels: 2 (one complex output).
        temb_dim: width of the time embedding.
        time_input: ``log`` embeds ``log t`` (needs ``t > 0``), ``linear`` embeds ``t``.
    """

    def __init__(
        self,
        channels: Sequence[int] = DCUNET10_CHANNELS,
        kernels: Sequence[Sequence[int]] = DCUNET10_KERNELS,
        strides: Sequence[Sequence[int]] = DCUNET10_STRIDES,
        in_channels: int = 2,
        cond_channels: int = 2,
        out_channels: int = 2,
        temb_dim: int = 128,
        time_input: str = "log",
    ) -> None:
        super().__init__()
        if not (len(channels) == len(kernels) == len(strides)) or not channels:
            raise ValueError("DCUNet: channels, kernels and strides need one entry per level")
        if (in_channels + cond_channels) % 2 or out_channels != 2:
            raise ValueError("DCUNet: inputs are complex (an even number of real channels) and the output is 2")
        if time_input not in ("log", "linear"):
            raise ValueError(f"DCUNet: time_input must be 'log' or 'linear', got {time_input!r}")
        ks = [(int(k[0]), int(k[1])) for k in kernels]
        ss = [(int(s[0]), int(s[1])) for s in strides]
        self.in_channels, self.cond_channels, self.time_input = in_channels, cond_channels, time_input
        self.multiple = (math.prod(s[0] for s in ss), math.prod(s[1] for s in ss))
        self.fourier = GaussianFourierProjection(temb_dim // 2)
        self.temb = nn.Sequential(nn.Linear(temb_dim, temb_dim), nn.SiLU(), nn.Linear(temb_dim, temb_dim))
        widths = [(in_channels + cond_channels) // 2, *channels]
        self.down = nn.ModuleList(
            _ComplexBlock(widths[i], widths[i + 1], ks[i], ss[i], temb_dim, transpose=False) for i in range(len(ks))
        )
        up: list[nn.Module] = []
        for i in reversed(range(1, len(ks))):
            cin = widths[i + 1] if i == len(ks) - 1 else 2 * widths[i + 1]
            up.append(_ComplexBlock(cin, widths[i], ks[i], ss[i], temb_dim, transpose=True))
        self.up = nn.ModuleList(up)
        self.out = ComplexConv2d(2 * widths[1], 1, ks[0], ss[0], transpose=True)

    def forward(self, x: Tensor, t: Tensor, cond_spec: Tensor | None = None, **_: Any) -> Tensor:
        """``x: (B, 2, F, T)``, ``t: (B,)``, ``cond_spec: (B, 2, F, T)`` -> ``(B, 2, F, T)``."""
        if self.cond_channels:
            if cond_spec is None or cond_spec.shape != x.shape:
                got = None if cond_spec is None else tuple(cond_spec.shape)
                raise ValueError(f"DCUNet: cond_spec must have the shape of x {tuple(x.shape)}, got {got}")
            parts = [x, cond_spec.to(x.dtype)]
        else:
            parts = [x]
        # [real parts | imaginary parts] of the complex input channels
        h = torch.cat([p[:, : p.shape[1] // 2] for p in parts] + [p[:, p.shape[1] // 2 :] for p in parts], dim=1)
        if h.shape[1] != self.in_channels + self.cond_channels:
            raise ValueError(
                f"DCUNet: expected {self.in_channels + self.cond_channels} input channels, got {h.shape[1]}"
            )
        f_in, t_in = h.shape[-2:]
        mf, mt = self.multiple
        h = F.pad(h, (0, -t_in % mt, 0, -f_in % mf))
        t = t.to(x.dtype).expand(x.shape[0]) if t.ndim == 0 else t.to(x.dtype)
        temb = self.temb(self.fourier(torch.log(t) if self.time_input == "log" else t))
        skips = []
        for block in self.down:
            h = block(h, temb)
            skips.append(h)
        skips.pop()  # the deepest features are h itself
        for block in self.up:
            h = block(h, temb)
            h = _cat_complex(h, skips.pop())
        return self.out(h)[..., :f_in, :t_in]


def _cat_complex(a: Tensor, b: Tensor) -> Tensor:
    """Concatenate two complex feature maps along channels, keeping the ``[real | imaginary]`` layout."""
    ar, ai = a.chunk(2, dim=1)
    br, bi = b.chunk(2, dim=1)
    return torch.cat([ar, br, ai, bi], dim=1)
