"""LightningDataModule for speech: compressed complex spectrograms of clean (``x0``) and noisy (``y``) speech."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from condiff.core.data.sampler import EpochSeededSampler
from condiff.core.errors import ConfigError
from condiff.speech.data.builtin import KINDS, builtin_speech_root
from condiff.speech.data.noise import NOISE_TYPES
from condiff.speech.data.paired import PairedSpeechDataset
from condiff.speech.frontend import SpectrogramFrontEnd, make_front_end


def to_batch(clean: Tensor, noisy: Tensor) -> dict[str, Any]:
    """Spectrograms ``(B, 2, F, T)`` -> the core's batch: ``x0`` clean, ``y`` noisy (the process drifts to it);
    the network sees ``y`` as ``cond_spec`` (SGMSE+ concatenates it to the state)."""
    return {"x0": clean, "y": noisy, "cond": {"cond_spec": noisy}}


def _collate(items: list[tuple[Tensor, Tensor]]) -> dict[str, Any]:
    return to_batch(torch.stack([c for c, _ in items]), torch.stack([n for _, n in items]))


class SpeechDataModule(L.LightningDataModule):
    """The built-in synthesized data (``source="builtin"``) or a paired folder (``source="folder"``).

    Args:
        source: ``builtin`` or ``folder``.
        data_dir: root with ``train/``, ``valid/`` (and ``test/``) each holding ``clean/`` + ``noisy/``
            or ``anechoic/`` + ``reverb/`` (``source="folder"``; VoiceBank-DEMAND, WSJ0-CHiME3, WSJ0-Reverb).
        kind: built-in data: ``noise`` (enhancement) or ``reverb`` (dereverberation).
        cache_dir: where the built-in data is generated.
        builtin_sizes: utterances per split of the built-in data (``{"train": 200, ...}``).
        snr_range: SNR interval (dB) of the built-in noisy data.
        noise_types: noises of the built-in data (``None``: all six).
        front_end: :class:`SpectrogramFrontEnd` settings (``preset`` ``16k``/``48k`` plus overrides).
        crop: frames per training item (SGMSE+: 256, about 2 s at 16 kHz).
        batch_size: training batch size.
        val_items: validation items (the first ones of ``valid``; centre segments).
        eval_split: the split :meth:`sampling_batches` draws from (``valid`` or ``test``).
        seed: seed of the built-in data and of the training segments.
        num_workers: DataLoader workers.
    """

    def __init__(
        self,
        source: str = "builtin",
        data_dir: str | os.PathLike[str] | None = None,
        kind: str = "noise",
        cache_dir: str | os.PathLike[str] = "~/.cache/condiff",
        builtin_sizes: Mapping[str, int] | None = None,
        snr_range: tuple[float, float] | list[float] = (0.0, 20.0),
        noise_types: tuple[str, ...] | list[str] | None = None,
        front_end: Mapping[str, Any] | SpectrogramFrontEnd | None = None,
        crop: int = 256,
        batch_size: int = 8,
        val_items: int = 8,
        eval_split: str = "valid",
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if source not in ("builtin", "folder"):
            raise ConfigError(f"config key 'task.datamodule.source': expected 'builtin' or 'folder', got {source!r}")
        if source == "folder" and data_dir is None:
            raise ConfigError("config key 'task.datamodule.data_dir': source='folder' needs the data folder")
        if kind not in KINDS:
            raise ConfigError(f"config key 'task.datamodule.kind': expected one of {KINDS}, got {kind!r}")
        if eval_split not in ("valid", "test"):
            raise ConfigError(
                f"config key 'task.datamodule.eval_split': expected 'valid' or 'test', got {eval_split!r}"
            )
        if crop < 1 or batch_size < 1:
            raise ConfigError(
                f"config key 'task.datamodule': crop and batch_size must be >= 1, got {crop}, {batch_size}"
            )
        self.source, self.data_dir, self.kind = source, data_dir, kind
        self.cache_dir = Path(os.path.expanduser(str(cache_dir)))
        self.builtin_sizes = dict(builtin_sizes or {})
        if len(snr_range) != 2 or not snr_range[0] <= snr_range[1]:
            raise ConfigError(f"config key 'task.datamodule.snr_range': expected [low, high] dB, got {snr_range!r}")
        self.snr_range = (float(snr_range[0]), float(snr_range[1]))
        self.noise_types = tuple(noise_types) if noise_types else NOISE_TYPES
        bad = sorted(set(self.noise_types) - set(NOISE_TYPES))
        if bad:
            raise ConfigError(
                f"config key 'task.datamodule.noise_types': unknown {bad}; expected some of {NOISE_TYPES}"
            )
        self.front_end = make_front_end(front_end)
        self.crop, self.batch_size, self.val_items, self.eval_split = crop, batch_size, val_items, eval_split
        self.seed, self.num_workers = seed, num_workers
        self._sets: dict[str, PairedSpeechDataset] = {}

    @property
    def root(self) -> Path:
        """The data root (generated on first use for the built-in data)."""
        if self.source == "folder":
            return Path(str(self.data_dir))
        return builtin_speech_root(
            self.cache_dir,
            self.kind,
            self.builtin_sizes,
            self.seed,
            self.front_end.sample_rate,
            self.snr_range,
            noise_types=self.noise_types,
        )

    def dataset(self, split: str, whole_files: bool = False) -> PairedSpeechDataset:
        """The ``split`` set: random ``crop``-frame segments for ``train``, centre segments (or whole files) else."""
        key = f"{split}:{whole_files}:{self.crop}"
        if key not in self._sets:
            self._sets[key] = PairedSpeechDataset(
                self.root / split,
                self.front_end,
                num_frames=None if whole_files else self.crop,
                random_crop=split == "train",
                seed=self.seed,
            )
        return self._sets[key]

    def setup(self, stage: str | None = None) -> None:
        self.dataset("train")
        self.dataset("valid")

    def train_dataloader(self) -> DataLoader:
        data = self.dataset("train")
        return DataLoader(
            data,
            batch_size=self.batch_size,
            sampler=EpochSeededSampler(len(data), self.seed),
            collate_fn=_collate,
            num_workers=self.num_workers,
            drop_last=len(data) >= self.batch_size,
        )

    def val_dataloader(self) -> DataLoader:
        data = self.dataset("valid")
        items = torch.utils.data.Subset(data, range(min(self.val_items, len(data))))
        return DataLoader(items, batch_size=self.batch_size, collate_fn=_collate, num_workers=self.num_workers)

    def sampling_batches(self, num_samples: int, batch_size: int) -> Iterator[dict[str, Any]]:
        """Centre segments of ``eval_split`` to enhance, with the clean spectrogram as ``reference``."""
        data = self.dataset(self.eval_split)
        n = min(num_samples, len(data))
        for start in range(0, n, batch_size):
            batch = _collate([data[i] for i in range(start, min(n, start + batch_size))])
            yield {"shape": tuple(batch["x0"].shape), "y": batch["y"], "cond": batch["cond"], "reference": batch["x0"]}
