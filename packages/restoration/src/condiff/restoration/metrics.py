"""Restoration metrics: PSNR and SSIM on RGB and on the Y channel, side by side, and MAE.

Papers differ on whether PSNR/SSIM are computed on RGB or on the luma (Y) channel of
YCbCr (ITU-R BT.601, the MATLAB ``rgb2ycbcr`` convention most restoration papers use)
and on how many border pixels are cropped. Both are reported here, explicitly named.
Images are ``(B, C, H, W)`` in ``[0, 1]``.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics.functional.image import peak_signal_noise_ratio

_Y_WEIGHTS = (65.481, 128.553, 24.966)


def rgb_to_y(x: Tensor) -> Tensor:
    """Luma of BT.601 YCbCr in ``[16/255, 235/255]``: ``Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255``."""
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"rgb_to_y: expected (B, 3, H, W), got {tuple(x.shape)}")
    w = torch.tensor(_Y_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (16.0 + (x * w).sum(dim=1, keepdim=True)) / 255.0


def _prepare(pred: Tensor, target: Tensor, crop_border: int) -> tuple[Tensor, Tensor]:
    if pred.shape != target.shape or pred.ndim != 4:
        raise ValueError(
            f"metrics: prediction {tuple(pred.shape)} and target {tuple(target.shape)} must match (B, C, H, W)"
        )
    pred = pred.detach().to(torch.float64).clamp(0, 1)
    target = target.detach().to(torch.float64).clamp(0, 1)
    if crop_border:
        pred = pred[..., crop_border:-crop_border, crop_border:-crop_border]
        target = target[..., crop_border:-crop_border, crop_border:-crop_border]
    return pred, target


def psnr(pred: Tensor, target: Tensor, y_channel: bool = False, crop_border: int = 0) -> Tensor:
    """Per-image PSNR in dB, ``10 log10(1 / MSE)``; ``(B,)``."""
    pred, target = _prepare(pred, target, crop_border)
    if y_channel:
        pred, target = rgb_to_y(pred), rgb_to_y(target)
    return peak_signal_noise_ratio(pred, target, data_range=1.0, reduction="none", dim=(1, 2, 3))


def ssim(pred: Tensor, target: Tensor, y_channel: bool = False, crop_border: int = 0) -> Tensor:
    """Per-image SSIM (Wang et al. 2004: Gaussian window 11, sigma 1.5, K = 0.01, 0.03), channel mean; ``(B,)``."""
    pred, target = _prepare(pred, target, crop_border)
    if y_channel:
        pred, target = rgb_to_y(pred), rgb_to_y(target)
    return _ssim_valid(pred, target)


def _ssim_valid(x: Tensor, y: Tensor, sigma: float = 1.5, size: int = 11) -> Tensor:
    """SSIM map over the 'valid' region only (no padding), averaged per image.

    This is the convention of the reference MATLAB code, of BasicSR and of scikit-image
    (which crops the border after filtering); torchmetrics pads by reflection instead,
    which moves SSIM by ~1e-2 on small images.
    """
    coords = torch.arange(size, dtype=x.dtype, device=x.device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    c = x.shape[1]
    win = (g[:, None] * g[None, :]).expand(c, 1, size, size).contiguous()

    def filt(z: Tensor) -> Tensor:
        return torch.nn.functional.conv2d(z, win, groups=c)

    c1, c2 = 0.01**2, 0.03**2
    mx, my = filt(x), filt(y)
    vx, vy, cxy = filt(x * x) - mx**2, filt(y * y) - my**2, filt(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return s.flatten(1).mean(dim=1)


def mae(pred: Tensor, target: Tensor) -> Tensor:
    """Per-image mean absolute error; ``(B,)``."""
    pred, target = _prepare(pred, target, 0)
    return (pred - target).abs().flatten(1).mean(dim=1)


def restoration_metrics(pred: Tensor, target: Tensor, crop_border: int = 0) -> dict[str, float]:
    """Mean PSNR/SSIM on RGB and Y, and MAE, over a batch of ``[0, 1]`` images."""
    rgb = pred.shape[1] == 3
    out = {
        "psnr_rgb": psnr(pred, target, crop_border=crop_border).mean().item(),
        "ssim_rgb": ssim(pred, target, crop_border=crop_border).mean().item(),
        "mae": mae(pred, target).mean().item(),
    }
    if rgb:
        out["psnr_y"] = psnr(pred, target, True, crop_border).mean().item()
        out["ssim_y"] = ssim(pred, target, True, crop_border).mean().item()
    return out
