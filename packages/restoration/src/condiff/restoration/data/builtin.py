"""The built-in restoration data set: crops of bundled photographs, degraded deterministically from a seed."""

from __future__ import annotations

from functools import cache

import torch
from torch import Tensor
from torch.utils.data import Dataset

from condiff.restoration.data.degradations import Degradation
from condiff.restoration.data.images import HELDOUT_IMAGES, TRAIN_IMAGES, load_builtin_image
from condiff.restoration.data.transforms import paired_random_crop_flip


@cache
def _image(name: str) -> Tensor:
    return load_builtin_image(name)


def _item_generator(seed: int, *key: int) -> torch.Generator:
    return torch.Generator().manual_seed(hash((seed, *key)) & (2**62 - 1))


class BuiltinTrainSet(Dataset[tuple[Tensor, Tensor]]):
    """``length`` random ``crop``-pixel crops of the training photographs with flips/rotations, and their degradation.

    Item ``i`` of epoch ``e`` is a pure function of ``(seed, e, i)``.
    """

    def __init__(
        self,
        degradation: Degradation,
        crop: int = 64,
        length: int = 4096,
        seed: int = 0,
        images: tuple[str, ...] = TRAIN_IMAGES,
    ) -> None:
        self.degradation, self.crop, self.length, self.seed, self.images, self.epoch = (
            degradation,
            crop,
            length,
            seed,
            images,
            0,
        )

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        g = _item_generator(self.seed, self.epoch, i)
        gt_full = _image(self.images[int(torch.randint(0, len(self.images), (1,), generator=g))])
        _, gt = paired_random_crop_flip(gt_full, gt_full, self.crop, True, g)
        lq = self.degradation(gt, g)
        return lq, gt


class BuiltinHeldOutSet(Dataset[tuple[Tensor, Tensor]]):
    """Fixed ``crop``-pixel tiles of the held-out photographs (never trained on), degraded with fixed seeds."""

    def __init__(
        self,
        degradation: Degradation,
        crop: int = 64,
        max_items: int | None = None,
        seed: int = 0,
        images: tuple[str, ...] = HELDOUT_IMAGES,
    ) -> None:
        self.degradation, self.seed = degradation, seed
        tiles = []
        for name in images:
            img = _image(name)
            h, w = img.shape[-2:]
            for top in range(0, h - crop + 1, crop):
                for left in range(0, w - crop + 1, crop):
                    tiles.append(img[:, top : top + crop, left : left + crop].contiguous())
        # Interleave images so that a prefix covers all of them.
        self.tiles = (
            tiles
            if max_items is None
            else [tiles[j] for j in torch.linspace(0, len(tiles) - 1, max_items).round().long().tolist()]
        )

    def __len__(self) -> int:
        return len(self.tiles)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        gt = self.tiles[i]
        return self.degradation(gt, _item_generator(self.seed, 10**9, i)), gt
