"""LightningDataModule for the medical tasks: batches in the core's format, images in ``[-1, 1]``.

Restoration tasks (denoising, low-dose CT, k-space, sparse-view CT): ``x0`` the clean slice, ``y`` the degraded
one (the process drifts to it), and ``cond_image = y`` for the network. Segmentation: ``x0`` the mask
(``{-1, 1}``) and ``cond_image`` the image; there is no ``y``. Prior (an unconditional model of clean slices for
the inverse-problem solvers): ``x0`` only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from condiff.core.data.sampler import EpochSeededSampler
from condiff.medical.data.aapm import aapm_pairs
from condiff.medical.data.builtin import SOURCES, SliceSet, builtin_set, disk_mask
from condiff.medical.data.degradations import Degradation, LowDoseCT, SparseViewCT, make_degradation
from condiff.medical.data.folders import folder_slices
from condiff.medical.data.intensity import IntensityWindow

TASKS = ("restore", "segment", "prior")
DISK_SOURCES = ("folder", "aapm")


def _generator(seed: int, *key: int) -> torch.Generator:
    return torch.Generator().manual_seed(hash((seed, *key)) & (2**62 - 1))


def to_batch(inputs: Tensor, targets: Tensor, task: str) -> dict[str, Any]:
    """``[0, 1]`` inputs (degraded image, or the image to segment) and targets -> the core's batch in ``[-1, 1]``."""
    if task == "prior":
        return {"x0": targets * 2 - 1}
    cond = inputs * 2 - 1
    batch: dict[str, Any] = {"x0": targets * 2 - 1, "cond": {"cond_image": cond}}
    if task == "restore":
        # Degradations may append side information (k-space: the complex zero-filled image and the mask) after
        # the degraded image itself, which is what the process drifts to.
        batch["y"] = cond[:, : targets.shape[1]]
    return batch


class SlicePairs(Dataset[tuple[Tensor, Tensor]]):
    """``(input, target)`` pairs from a :class:`SliceSet`: (degraded, clean) for restoration (the set's measured
    ``degraded`` slices when it has them, else ``degradation`` of the clean slice), (image, mask) for
    segmentation. Training items (``length`` given) are random slices with random flips along every spatial
    axis, a pure function of ``(seed, epoch, i)``; held-out items (``length=None``) are the slices in order with
    fixed degradation seeds.
    """

    def __init__(
        self,
        slices: SliceSet,
        task: str,
        degradation: Degradation | None,
        length: int | None = None,
        seed: int = 0,
    ) -> None:
        if task not in TASKS:
            raise ValueError(f"SlicePairs: task must be one of {TASKS}, got {task!r}")
        if task == "segment" and slices.labels is None:
            raise ValueError("SlicePairs: segmentation needs a source with labels (e.g. source='mni')")
        if task == "restore" and degradation is None and slices.degraded is None:
            raise ValueError("SlicePairs: restoration needs a degradation or paired degraded slices")
        self.slices, self.task, self.degradation = slices, task, degradation
        self.length, self.seed, self.epoch = length, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length if self.length is not None else len(self.slices.images)

    def generator(self, i: int) -> torch.Generator:
        """The generator of item ``i`` (held-out items: fixed; training items: per epoch). A held-out item's
        degradation draws from it first, so ``degradation.measure(slices.images[i], generator(i))`` returns the
        measurement behind item ``i`` (e.g. its k-space and mask)."""
        return _generator(self.seed, 10**9, i) if self.length is None else _generator(self.seed, self.epoch, i)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        n = len(self.slices.images)
        g = self.generator(i)
        if self.length is None:
            k, flips = i, []
        else:
            k = int(torch.randint(0, n, (1,), generator=g))
            dims = range(1, self.slices.images.ndim - 1)
            flips = [d for d in dims if bool(torch.rand((), generator=g) < 0.5)]
        image = self.slices.images[k].flip(flips) if flips else self.slices.images[k]
        if self.task == "segment":
            assert self.slices.labels is not None
            label = self.slices.labels[k]
            return image, label.flip(flips) if flips else label
        if self.task == "prior":
            return image, image
        if self.slices.degraded is not None:  # measured pairs (AAPM quarter dose), flipped with their target
            degraded = self.slices.degraded[k]
            return degraded.flip(flips) if flips else degraded, image
        assert self.degradation is not None
        return self.degradation(image, g), image


class MedicalDataModule(L.LightningDataModule):
    """Built-in medical slices (or 3-D patches) with a degradation, or with their masks for segmentation.

    Args:
        task: ``restore`` (degraded -> clean), ``segment`` (image -> mask) or ``prior`` (clean slices alone).
        source: ``mni`` (T1 template slices, white-matter masks), ``phantom`` (ellipse phantoms; held out: the
            Shepp-Logan phantom and unseen phantoms), ``mni3d`` (``size^3`` patches), ``folder``: your volumes
            in ``train_dir`` and ``val_dir`` (NIfTI, DICOM series or fastMRI ``.h5``; see
            :mod:`condiff.medical.data.folders`), or ``aapm``: measured quarter-/full-dose CT pairs in the AAPM
            Low Dose CT Grand Challenge layout under ``train_dir`` and ``val_dir`` (see
            :mod:`condiff.medical.data.aapm`; ``degradation`` must be ``None``).
        degradation: ``rician``, ``lowdose_ct``, ``sparse_view_ct`` or ``kspace`` (restoration).
        degradation_params: its parameters (e.g. ``{"sigma": 0.08}``).
        size: slice side (patch side for ``mni3d``).
        batch_size: training batch size.
        train_length: training items per epoch.
        val_items: held-out items used for validation (spread evenly over the held-out slices).
        seed: seed of slice choice, flips and degradations.
        num_workers: DataLoader workers.
        train_dir: training volumes (``source="folder"``).
        val_dir: held-out volumes (``source="folder"``).
        window: CT window name for ``source="folder"`` (``None``: each volume's percentiles, for MRI) or
            ``source="aapm"`` (``None``: ``soft_tissue``); the window used is recorded in :attr:`intensity_window`.
        thickness: AAPM reconstruction, ``3mm`` or ``1mm`` (the ``quarter_<thickness>/`` and ``full_<thickness>/``
            folders).
    """

    def __init__(
        self,
        task: str = "restore",
        source: str = "mni",
        degradation: str | None = "rician",
        degradation_params: dict[str, Any] | None = None,
        size: int = 32,
        batch_size: int = 16,
        train_length: int = 4096,
        val_items: int = 32,
        seed: int = 0,
        num_workers: int = 0,
        train_dir: str | None = None,
        val_dir: str | None = None,
        window: str | None = None,
        thickness: str = "3mm",
    ) -> None:
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"MedicalDataModule: task must be one of {TASKS}, got {task!r}")
        if source not in (*SOURCES, *DISK_SOURCES):
            raise ValueError(f"MedicalDataModule: source must be one of {(*SOURCES, *DISK_SOURCES)}, got {source!r}")
        if source in DISK_SOURCES and (train_dir is None or val_dir is None):
            raise ValueError(f"MedicalDataModule: source={source!r} needs train_dir and val_dir")
        if source == "aapm" and (task != "restore" or degradation is not None):
            raise ValueError("MedicalDataModule: source='aapm' holds measured pairs: task='restore', degradation=None")
        self.train_dir, self.val_dir, self.window, self.thickness = train_dir, val_dir, window, thickness
        self.intensity_window: IntensityWindow | None = IntensityWindow.ct(window) if window else None
        self.task, self.source, self.size = task, source, size
        self.degradation = (
            make_degradation(degradation, **(degradation_params or {})) if task == "restore" and degradation else None
        )
        self.batch_size, self.train_length, self.val_items = batch_size, train_length, val_items
        self.seed, self.num_workers = seed, num_workers
        self._train: SlicePairs | None = None
        self._val: SlicePairs | None = None

    def setup(self, stage: str | None = None) -> None:
        if self._train is not None:
            return
        if self.source == "aapm":
            assert self.train_dir is not None
            assert self.val_dir is not None
            window = self.window or "soft_tissue"
            train_pairs = aapm_pairs(self.train_dir, self.size, window, self.thickness)
            held_pairs = aapm_pairs(self.val_dir, self.size, window, self.thickness)
            self.intensity_window = train_pairs.window
            train = SliceSet(train_pairs.targets, degraded=train_pairs.inputs)
            held = SliceSet(held_pairs.targets, degraded=held_pairs.inputs)
        elif self.source == "folder":
            assert self.train_dir is not None
            assert self.val_dir is not None
            seg = self.task == "segment"
            train = folder_slices(self.train_dir, self.size, self.window, labels=seg)
            held = folder_slices(self.val_dir, self.size, self.window, labels=seg)
            if isinstance(self.degradation, LowDoseCT | SparseViewCT):  # CT needs the reconstruction circle
                train = SliceSet(train.images * disk_mask(self.size), train.labels)
                held = SliceSet(held.images * disk_mask(self.size), held.labels)
        else:
            train = builtin_set(self.source, self.size, "train")
            held = builtin_set(self.source, self.size, "heldout")
        n = len(held.images)
        keep = torch.linspace(0, n - 1, min(self.val_items, n)).round().long()
        held = SliceSet(held.images[keep], None if held.labels is None else held.labels[keep],
                        None if held.degraded is None else held.degraded[keep])  # fmt: skip
        self._train = SlicePairs(train, self.task, self.degradation, self.train_length, self.seed)
        self._val = SlicePairs(held, self.task, self.degradation, None, self.seed)

    def _collate(self, items: list[tuple[Tensor, Tensor]]) -> dict[str, Any]:
        return to_batch(torch.stack([a for a, _ in items]), torch.stack([b for _, b in items]), self.task)

    @property
    def val_set(self) -> SlicePairs:
        self.setup()
        assert self._val is not None
        return self._val

    def train_dataloader(self) -> DataLoader:
        self.setup()
        assert self._train is not None
        return DataLoader(
            self._train,
            batch_size=self.batch_size,
            sampler=EpochSeededSampler(len(self._train), self.seed),
            collate_fn=self._collate,
            num_workers=self.num_workers,
            drop_last=True,
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.batch_size, collate_fn=self._collate,
                          num_workers=self.num_workers)  # fmt: skip

    def sampling_batches(self, num_samples: int, batch_size: int) -> Iterator[dict[str, Any]]:
        """Held-out inputs with their ground truth as ``reference``."""
        n = min(num_samples, len(self.val_set))
        for start in range(0, n, batch_size):
            batch = self._collate([self.val_set[i] for i in range(start, min(n, start + batch_size))])
            out = {"shape": tuple(batch["x0"].shape), "cond": batch.get("cond", {}), "reference": batch["x0"]}
            if "y" in batch:
                out["y"] = batch["y"]
            yield out
