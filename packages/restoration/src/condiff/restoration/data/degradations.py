"""Synthetic degradations for ground-truth-only data, each deterministic given a generator.

All take and return images ``(C, H, W)`` in ``[0, 1]`` (float) and keep the size, so a
restoration model maps a degraded image to the clean one pixel for pixel (super-resolution
returns the low-resolution image upsampled back with the same stated interpolation, as
IR-SDE and RDDM do).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.nn import functional as F


def _check(x: Tensor) -> None:
    if x.ndim != 3:
        raise ValueError(f"degradations take one image (C, H, W), got shape {tuple(x.shape)}")


def gaussian_noise(x: Tensor, sigma: float, generator: torch.Generator | None = None) -> Tensor:
    """``x + sigma * n``, ``n ~ N(0, I)``; ``sigma`` on the ``[0, 1]`` scale (25/255 for "sigma 25"). Not clipped."""
    _check(x)
    return x + sigma * torch.randn(x.shape, generator=generator, dtype=x.dtype)


def gaussian_kernel(sigma: float, size: int | None = None) -> Tensor:
    """Normalised isotropic 2-D Gaussian kernel; ``size`` defaults to ``2 ceil(3 sigma) + 1``."""
    size = size or 2 * math.ceil(3 * sigma) + 1
    r = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    k = g[:, None] * g[None, :]
    return (k / k.sum()).float()


def motion_kernel(length: int, angle_deg: float) -> Tensor:
    """Normalised linear motion-blur kernel of ``length`` pixels at ``angle_deg``."""
    size = length if length % 2 else length + 1
    k = torch.zeros(size, size, dtype=torch.float64)
    c = (size - 1) / 2
    th = math.radians(angle_deg)
    for s in np.linspace(-(length - 1) / 2, (length - 1) / 2, 4 * length):
        i, j = round(c - s * math.sin(th)), round(c + s * math.cos(th))
        k[i, j] = 1.0
    return (k / k.sum()).float()


def blur(x: Tensor, kernel: Tensor) -> Tensor:
    """Convolve each channel with ``kernel`` (reflect padding keeps the size)."""
    _check(x)
    kh, kw = kernel.shape
    pad = (kw // 2, kw // 2, kh // 2, kh // 2)
    xp = F.pad(x[None], pad, mode="reflect")
    w = kernel.to(x.dtype)[None, None].expand(x.shape[0], 1, kh, kw)
    return F.conv2d(xp, w, groups=x.shape[0])[0]


def downsample_upsample(x: Tensor, scale: int, mode: str = "bicubic") -> Tensor:
    """Anti-aliased ``mode`` downsampling by ``scale`` then ``mode`` upsampling back to the input size."""
    _check(x)
    h, w = x.shape[-2:]
    if h % scale or w % scale:
        raise ValueError(f"downsample_upsample: size {h}x{w} is not divisible by scale {scale}")
    small = F.interpolate(x[None], size=(h // scale, w // scale), mode=mode, antialias=True, align_corners=False)
    return F.interpolate(small, size=(h, w), mode=mode, align_corners=False)[0]


def jpeg(x: Tensor, quality: int) -> Tensor:
    """Round-trip through JPEG at ``quality`` (PIL, 4:2:0 subsampling)."""
    from PIL import Image

    _check(x)
    arr = (x.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(buf, format="JPEG", quality=quality)
    out = np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype=np.float32) / 255.0
    out = out[..., None] if out.ndim == 2 else out
    return torch.from_numpy(out).permute(2, 0, 1).to(x.dtype)


def box_mask(
    h: int, w: int, generator: torch.Generator | None = None, frac: tuple[float, float] = (0.2, 0.4)
) -> Tensor:
    """A ``(1, H, W)`` mask with one random rectangle of 0s (missing) in a field of 1s (kept)."""
    lo, hi = frac
    u = torch.rand(4, generator=generator).tolist()
    bh, bw = int(h * (lo + (hi - lo) * u[0])), int(w * (lo + (hi - lo) * u[1]))
    top, left = int((h - bh) * u[2]), int((w - bw) * u[3])
    m = torch.ones(1, h, w)
    m[:, top : top + bh, left : left + bw] = 0.0
    return m


def rain_streaks(
    x: Tensor,
    generator: torch.Generator | None = None,
    density: float = 0.02,
    length: int = 11,
    angle_deg: float | None = None,
    intensity: float = 0.8,
) -> Tensor:
    """Add synthetic rain: sparse impulses smeared by a motion kernel, screen-blended onto ``x``.

    Streak angle is drawn in ``[60, 120]`` degrees unless given (near-vertical rain).
    """
    _check(x)
    h, w = x.shape[-2:]
    seeds = (torch.rand(1, h, w, generator=generator) < density).to(x.dtype)
    if angle_deg is None:
        angle_deg = 60.0 + 60.0 * float(torch.rand(1, generator=generator))
    streaks = blur(seeds, motion_kernel(length, angle_deg)) * length * intensity
    streaks = streaks.clamp(0, 1)
    return 1.0 - (1.0 - x) * (1.0 - streaks)  # screen blend: streaks only brighten


def low_light(
    x: Tensor,
    generator: torch.Generator | None = None,
    gamma: float = 2.0,
    scale: float = 0.3,
    noise_sigma: float = 0.02,
) -> Tensor:
    """Under-exposure: ``scale * x^gamma`` plus sensor noise of ``noise_sigma``."""
    _check(x)
    return scale * x.clamp(0, 1) ** gamma + noise_sigma * torch.randn(x.shape, generator=generator, dtype=x.dtype)


@dataclass(frozen=True)
class Degradation:
    """A named degradation with fixed parameters: ``degradation(x, generator) -> lq``."""

    name: str
    fn: Callable[[Tensor, torch.Generator | None], Tensor]

    def __call__(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return self.fn(x, generator)


def make_degradation(name: str, **params: float) -> Degradation:
    """The degradation of task ``name`` (``denoise``, ``deblur``, ``sr2``, ``sr4``, ``jpeg``, ``inpaint``,
    ``derain``, ``lowlight``) with its parameters (e.g. ``sigma=25/255`` for ``denoise``)."""
    p = dict(params)

    def inpaint(x: Tensor, g: torch.Generator | None) -> Tensor:
        return x * box_mask(x.shape[-2], x.shape[-1], g).to(x.dtype)

    table: dict[str, Callable[[Tensor, torch.Generator | None], Tensor]] = {
        "denoise": lambda x, g: gaussian_noise(x, p.get("sigma", 25 / 255), g),
        "deblur": lambda x, g: gaussian_noise(
            blur(x, gaussian_kernel(p.get("blur_sigma", 2.0))), p.get("sigma", 0.01), g
        ),
        "sr2": lambda x, g: downsample_upsample(x, 2),
        "sr4": lambda x, g: downsample_upsample(x, 4),
        "jpeg": lambda x, g: jpeg(x, int(p.get("quality", 10))),
        "inpaint": inpaint,
        "derain": lambda x, g: rain_streaks(x, g, density=p.get("density", 0.02), intensity=p.get("intensity", 0.8)),
        "lowlight": lambda x, g: low_light(x, g, gamma=p.get("gamma", 2.0), scale=p.get("scale", 0.3)),
    }
    if name not in table:
        raise ValueError(f"unknown degradation {name!r}; expected one of {sorted(table)}")
    return Degradation(name, table[name])
