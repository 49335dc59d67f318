"""The 1,797 8x8 digits that ship inside scikit-learn, split and served as a LightningDataModule."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from condiff.core.data.sampler import EpochSeededSampler

NUM_CLASSES = 10
IMAGE_SHAPE = (1, 8, 8)


@dataclass(frozen=True)
class DigitsSplit:
    """Images in ``[-1, 1]`` of shape ``(N, 1, 8, 8)`` and integer labels ``(N,)``."""

    images: Tensor
    labels: Tensor


def load_digits_splits(seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.2) -> dict[str, DigitsSplit]:
    """Stratified ``train``/``val``/``test`` splits of ``sklearn.datasets.load_digits``.

    Pixels ``0..16`` map to ``x / 8 - 1`` in ``[-1, 1]``. The split depends on ``seed`` only.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not (0 < val_fraction < 1 and 0 < test_fraction < 1 and val_fraction + test_fraction < 1):
        raise ValueError(f"load_digits_splits: bad fractions val={val_fraction}, test={test_fraction}")
    d = load_digits()
    x = d.images.astype(np.float32) / 8.0 - 1.0
    y = d.target.astype(np.int64)
    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=test_fraction, stratify=y, random_state=seed)
    train, val = train_test_split(
        rest, test_size=val_fraction / (1 - test_fraction), stratify=y[rest], random_state=seed
    )
    return {
        name: DigitsSplit(torch.from_numpy(x[ix][:, None]), torch.from_numpy(y[ix]))
        for name, ix in (("train", train), ("val", val), ("test", test))
    }


class DigitsDataset(Dataset[dict[str, Any]]):
    """Items ``{"x0": (1, 8, 8), "cond": {"labels": ()}}``."""

    def __init__(self, split: DigitsSplit) -> None:
        self.split = split

    def __len__(self) -> int:
        return len(self.split.labels)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"x0": self.split.images[i], "cond": {"labels": self.split.labels[i]}}


class DigitsDataModule(L.LightningDataModule):
    """Train/val/test loaders over the scikit-learn digits.

    Args:
        batch_size: training batch size.
        seed: split seed and data-order seed.
        val_fraction: fraction held out for validation.
        test_fraction: fraction held out for the final evaluation.
        num_workers: DataLoader workers (the data is in memory: 0 is fastest).
    """

    data_shape = IMAGE_SHAPE
    num_classes = NUM_CLASSES

    def __init__(
        self,
        batch_size: int = 128,
        seed: int = 0,
        val_fraction: float = 0.1,
        test_fraction: float = 0.2,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"DigitsDataModule: batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size
        self.seed = seed
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.num_workers = num_workers
        self.splits: dict[str, DigitsSplit] | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.splits is None:
            self.splits = load_digits_splits(self.seed, self.val_fraction, self.test_fraction)

    def _split(self, name: str) -> DigitsSplit:
        self.setup()
        assert self.splits is not None
        return self.splits[name]

    def train_dataloader(self) -> DataLoader:
        ds = DigitsDataset(self._split("train"))
        return DataLoader(
            ds,
            batch_size=self.batch_size,
            sampler=EpochSeededSampler(len(ds), seed=self.seed),
            num_workers=self.num_workers,
            drop_last=True,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(DigitsDataset(self._split("val")), batch_size=256, num_workers=self.num_workers)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(DigitsDataset(self._split("test")), batch_size=256, num_workers=self.num_workers)

    def sampling_batches(self, num_samples: int, batch_size: int) -> Iterator[dict[str, Any]]:
        """Conditions to generate for: labels ``0..9`` repeated, so every class is requested equally."""
        labels = torch.arange(num_samples) % NUM_CLASSES
        for start in range(0, num_samples, batch_size):
            lab = labels[start : start + batch_size]
            yield {"shape": (len(lab), *IMAGE_SHAPE), "cond": {"labels": lab}}
