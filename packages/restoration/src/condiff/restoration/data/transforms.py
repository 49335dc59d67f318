"""Paired random crops, flips and rotations."""

from __future__ import annotations

import torch
from torch import Tensor

from condiff.core.errors import DataValidationError


def paired_random_crop_flip(
    lq: Tensor, gt: Tensor, crop: int | None, augment: bool, generator: torch.Generator, name: str = "image"
) -> tuple[Tensor, Tensor]:
    """The same random ``crop x crop`` window, flips and 90-degree rotation for both images."""
    h, w = gt.shape[-2:]
    if crop is not None:
        if h < crop or w < crop:
            raise DataValidationError(f"{name}: image {h}x{w} is smaller than the crop size {crop}")
        top = int(torch.randint(0, h - crop + 1, (1,), generator=generator))
        left = int(torch.randint(0, w - crop + 1, (1,), generator=generator))
        lq, gt = (z[..., top : top + crop, left : left + crop] for z in (lq, gt))
    if augment:
        flip, rot = (
            torch.randint(0, 2, (1,), generator=generator).item(),
            torch.randint(0, 4, (1,), generator=generator).item(),
        )
        if flip:
            lq, gt = lq.flip(-1), gt.flip(-1)
        lq, gt = torch.rot90(lq, int(rot), (-2, -1)), torch.rot90(gt, int(rot), (-2, -1))
    return lq.contiguous(), gt.contiguous()
