"""LightningDataModule for restoration: batches of degraded inputs ``y`` and clean targets ``x0`` in ``[-1, 1]``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from condiff.core.data.sampler import EpochSeededSampler
from condiff.restoration.data.builtin import BuiltinHeldOutSet, BuiltinTrainSet
from condiff.restoration.data.degradations import make_degradation
from condiff.restoration.data.paired import PairedFolderDataset


def to_batch(lq: Tensor, gt: Tensor) -> dict[str, Any]:
    """``[0, 1]`` images -> the core's batch: ``x0`` clean, ``y`` degraded (the process drifts to it), both in
    ``[-1, 1]``; the network also sees ``y`` as ``cond_image``."""
    y = lq * 2 - 1
    return {"x0": gt * 2 - 1, "y": y, "cond": {"cond_image": y}}


def _collate(items: list[tuple[Tensor, Tensor]]) -> dict[str, Any]:
    lq = torch.stack([a for a, _ in items])
    gt = torch.stack([b for _, b in items])
    return to_batch(lq, gt)


class RestorationDataModule(L.LightningDataModule):
    """Built-in photographs (``source="builtin"``) or paired folders (``source="folder"``).

    Args:
        degradation: task name for the built-in data (``denoise``, ``derain``, ``deblur``, ``sr4``, ``lowlight``,
            ``inpaint``, ...).
        degradation_params: parameters of the degradation (e.g. ``{"sigma": 0.098}``).
        source: ``builtin`` or ``folder``.
        train_dir: paired folder for training (``source="folder"``).
        val_dir: paired folder for validation (``source="folder"``).
        crop: training crop size (also the held-out tile size of the built-in data).
        batch_size: training batch size.
        train_length: training items per epoch of the built-in data.
        val_items: held-out tiles used for validation.
        seed: seed of crops, augmentations and degradations.
        num_workers: DataLoader workers.
    """

    def __init__(
        self,
        degradation: str = "denoise",
        degradation_params: dict[str, float] | None = None,
        source: str = "builtin",
        train_dir: str | None = None,
        val_dir: str | None = None,
        crop: int = 64,
        batch_size: int = 16,
        train_length: int = 4096,
        val_items: int = 32,
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if source not in ("builtin", "folder"):
            raise ValueError(f"RestorationDataModule: source must be 'builtin' or 'folder', got {source!r}")
        if source == "folder" and (train_dir is None or val_dir is None):
            raise ValueError("RestorationDataModule: source='folder' needs train_dir and val_dir")
        self.degradation = make_degradation(degradation, **(degradation_params or {}))
        self.source, self.train_dir, self.val_dir = source, train_dir, val_dir
        self.crop, self.batch_size, self.train_length, self.val_items = crop, batch_size, train_length, val_items
        self.seed, self.num_workers = seed, num_workers
        self._train: Dataset | None = None
        self._val: Dataset | None = None

    def setup(self, stage: str | None = None) -> None:
        if self._train is not None:
            return
        if self.source == "builtin":
            self._train = BuiltinTrainSet(self.degradation, self.crop, self.train_length, self.seed)
            self._val = BuiltinHeldOutSet(self.degradation, self.crop, self.val_items, self.seed)
        else:
            assert self.train_dir is not None
            assert self.val_dir is not None
            self._train = PairedFolderDataset(self.train_dir, crop=self.crop, augment=True, seed=self.seed)
            self._val = PairedFolderDataset(self.val_dir)

    @property
    def val_set(self) -> Dataset:
        self.setup()
        assert self._val is not None
        return self._val

    def train_dataloader(self) -> DataLoader:
        self.setup()
        assert self._train is not None
        return DataLoader(
            self._train,
            batch_size=self.batch_size,
            sampler=EpochSeededSampler(len(self._train), self.seed),  # type: ignore[arg-type]
            collate_fn=_collate,
            num_workers=self.num_workers,
            drop_last=True,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.batch_size, collate_fn=_collate, num_workers=self.num_workers)

    def sampling_batches(self, num_samples: int, batch_size: int) -> Iterator[dict[str, Any]]:
        """Held-out degraded inputs to restore, with their ground truth as ``reference``."""
        n = min(num_samples, len(self.val_set))  # type: ignore[arg-type]
        for start in range(0, n, batch_size):
            items = [self.val_set[i] for i in range(start, min(n, start + batch_size))]
            batch = _collate(items)
            yield {"shape": tuple(batch["x0"].shape), "y": batch["y"], "cond": batch["cond"], "reference": batch["x0"]}
