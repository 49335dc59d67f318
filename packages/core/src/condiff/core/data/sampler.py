"""A sampler whose order is a pure function of ``(seed, epoch)``."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochSeededSampler(Sampler[int]):
    """Shuffle ``range(n)`` with a permutation drawn from ``seed + epoch`` only.

    Lightning calls :meth:`set_epoch` at the start of every epoch, so the data
    order after resuming from a checkpoint is the one an uninterrupted run sees,
    whatever the global RNG did in between.
    """

    def __init__(self, n: int, seed: int = 0, shuffle: bool = True) -> None:
        if n <= 0:
            raise ValueError(f"EpochSeededSampler: need a non-empty data set, got n={n}")
        self.n = n
        self.seed = int(seed)
        self.shuffle = shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(self.n))
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())

    def __len__(self) -> int:
        return self.n
