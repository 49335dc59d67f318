"""Paired folder data sets (``lq/`` and ``gt/`` with matching names) and their validator."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from condiff.core.errors import DataValidationError
from condiff.restoration.data.images import IMAGE_SUFFIXES, read_image
from condiff.restoration.data.transforms import paired_random_crop_flip


def _images(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}


def validate_paired_folder(
    root: str | os.PathLike[str], lq: str = "lq", gt: str = "gt", check_sizes: bool = True
) -> list[tuple[Path, Path]]:
    """Return the ``(lq, gt)`` pairs under ``root``, or raise listing every problem by file name.

    Problems: a missing folder, files present on one side only, and (with ``check_sizes``)
    pairs whose image sizes differ.
    """
    from PIL import Image

    root = Path(root)
    lq_dir, gt_dir = root / lq, root / gt
    for d in (lq_dir, gt_dir):
        if not d.is_dir():
            raise DataValidationError(f"{d}: folder not found (a paired data set needs {lq}/ and {gt}/)")
    lqs, gts = _images(lq_dir), _images(gt_dir)
    problems = [f"{lqs[n]}: no ground truth with the same name in {gt_dir}" for n in sorted(set(lqs) - set(gts))]
    problems += [f"{gts[n]}: no degraded input with the same name in {lq_dir}" for n in sorted(set(gts) - set(lqs))]
    pairs = [(lqs[n], gts[n]) for n in sorted(set(lqs) & set(gts))]
    if check_sizes:
        for a, b in pairs:
            try:
                with Image.open(a) as ia, Image.open(b) as ib:
                    if ia.size != ib.size:
                        problems.append(
                            f"{a}: size {ia.size[0]}x{ia.size[1]} differs from {b} ({ib.size[0]}x{ib.size[1]})"
                        )
            except OSError as e:
                problems.append(f"{a} / {b}: unreadable image ({e})")
    if problems:
        raise DataValidationError(
            f"{root}: {len(problems)} problem(s) in the paired data set:\n  " + "\n  ".join(problems)
        )
    if not pairs:
        raise DataValidationError(f"{root}: no image pairs found in {lq_dir} and {gt_dir}")
    return pairs


class PairedFolderDataset(Dataset[tuple[Tensor, Tensor]]):
    """``(lq, gt)`` image pairs from ``root/lq`` and ``root/gt``, optionally random-cropped and flipped.

    Args:
        root: folder holding the two sub-folders.
        crop: random crop size for training (``None``: whole images).
        augment: random flips and 90-degree rotations (training only).
        channels: expected channels of every image (3 for RGB).
        seed: seed of the crops and flips (item ``i`` of epoch ``e`` is a pure function of them).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        crop: int | None = None,
        augment: bool = False,
        channels: int = 3,
        seed: int = 0,
        lq: str = "lq",
        gt: str = "gt",
    ) -> None:
        self.pairs = validate_paired_folder(root, lq, gt)
        self.crop, self.augment, self.channels, self.seed, self.epoch = crop, augment, channels, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        lq_path, gt_path = self.pairs[i]
        lq, gt = read_image(lq_path, self.channels), read_image(gt_path, self.channels)
        if lq.shape != gt.shape:
            raise DataValidationError(
                f"{lq_path}: size {tuple(lq.shape[1:])} differs from {gt_path} ({tuple(gt.shape[1:])})"
            )
        if self.crop is None and not self.augment:
            return lq, gt
        g = torch.Generator().manual_seed(hash((self.seed, self.epoch, i)) & (2**62 - 1))
        return paired_random_crop_flip(lq, gt, self.crop, self.augment, g, name=str(lq_path))
