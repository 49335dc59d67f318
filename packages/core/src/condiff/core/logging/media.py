"""Image grids written as PNG files and logged to wandb when it is the logger."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor


def image_grid(
    images: Tensor,
    nrow: int | None = None,
    value_range: tuple[float, float] = (-1.0, 1.0),
    pad: int = 1,
    upscale: int = 1,
) -> np.ndarray:
    """Tile ``images: (N, C, H, W)`` (C = 1 or 3) into one ``uint8`` array ``(rows*H, cols*W, C)``."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"image_grid: expected (N, 1|3, H, W), got {tuple(images.shape)}")
    lo, hi = value_range
    x = ((images.detach().float().cpu().clamp(lo, hi) - lo) / (hi - lo) * 255).round().to(dtype=torch.uint8)
    if upscale > 1:
        x = x.repeat_interleave(upscale, dim=2).repeat_interleave(upscale, dim=3)
    n, c, h, w = x.shape
    cols = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad, c), dtype=np.uint8)
    arr = x.permute(0, 2, 3, 1).numpy()
    for i in range(n):
        r, q = divmod(i, cols)
        grid[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + q * (w + pad) : pad + q * (w + pad) + w] = arr[i]
    return grid


def save_png(grid: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write a ``uint8`` grid to ``path`` as PNG (atomically)."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(tmp, format="PNG")
    os.replace(tmp, path)
    return path


def log_image_grid(logger: Any, key: str, grid: np.ndarray, step: int, caption: str | None = None) -> None:
    """Log ``grid`` to ``logger`` when it takes images (wandb); other loggers get the PNG file only."""
    from lightning.pytorch.loggers import WandbLogger

    if isinstance(logger, WandbLogger):
        kwargs = {"caption": [caption]} if caption else {}
        logger.log_image(key=key, images=[grid], step=step, **kwargs)
