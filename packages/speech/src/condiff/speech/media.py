"""Validation media: a few enhanced files logged as audio and spectrogram images (wandb) and written to disk."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch import Tensor

from condiff.core.logging.media import image_grid, log_image_grid, save_png
from condiff.speech.audio import write_audio
from condiff.speech.frontend import SpectrogramFrontEnd, make_front_end


def spectrogram_image(specs: Tensor, front_end: SpectrogramFrontEnd, floor_db: float = -80.0) -> np.ndarray:
    """Stack ``(N, 2, F, T)`` compressed spectrograms as one image of log magnitudes (low frequencies at the bottom).

    Magnitudes are decompressed, converted to dB relative to the largest and clipped at ``floor_db``.
    """
    mag = front_end.decompress(front_end.from_channels(specs.float())).abs()
    db = 20 * torch.log10(mag.clamp_min(1e-10) / mag.amax().clamp_min(1e-10))
    img = (db.clamp_min(floor_db) / -floor_db * 2 + 1).flip(-2)  # [floor, 0] dB -> [-1, 1]
    return image_grid(img[:, None], nrow=1)


class SpeechMediaCallback(L.Callback):
    """After each validation, enhance ``num_files`` held-out segments; log noisy/enhanced/clean audio and
    spectrograms to wandb (other loggers: files only) under ``<run>/media/step<N>/``.

    Args:
        front_end: :class:`SpectrogramFrontEnd` settings of the task.
        num_files: segments enhanced and logged.
    """

    def __init__(self, front_end: Mapping[str, Any] | SpectrogramFrontEnd | None = None, num_files: int = 2) -> None:
        self.front_end, self.num_files = make_front_end(front_end), int(num_files)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        dm = getattr(trainer, "datamodule", None)
        if trainer.sanity_checking or not trainer.is_global_zero or dm is None or self.num_files < 1:
            return
        generate = getattr(pl_module, "generate", None)
        if generate is None:
            return
        samples, cond = generate(dm.sampling_batches(self.num_files, self.num_files))
        self.log_media(trainer, samples, cond["y"], cond["reference"])

    def log_media(self, trainer: L.Trainer, enhanced: Tensor, noisy: Tensor, clean: Tensor) -> Path:
        """Write and log the three versions of each file; returns the folder."""
        fe, step = self.front_end, trainer.global_step
        out = Path(trainer.default_root_dir) / "media" / f"step{step:08d}"
        length = fe.segment_length(enhanced.shape[-1])
        waves = {
            k: fe.synthesize(v.float().cpu(), length)
            for k, v in (("noisy", noisy), ("enhanced", enhanced), ("clean", clean))
        }
        for name, wav in waves.items():
            for i, w in enumerate(wav):
                write_audio(out / f"{i:02d}_{name}.wav", w / w.abs().max().clamp_min(1e-8) * 0.9, fe.sample_rate)
        grid = spectrogram_image(torch.cat([noisy.cpu(), enhanced.cpu(), clean.cpu()]), fe)
        save_png(grid, out / "spectrograms.png")
        for logger in trainer.loggers:
            log_image_grid(logger, "val/spectrograms", grid, step, caption="noisy / enhanced / clean")
            if type(logger).__name__ == "WandbLogger":
                import wandb

                audio = [
                    wandb.Audio(w.numpy(), sample_rate=fe.sample_rate, caption=f"{i} {name}")
                    for name, wav in waves.items()
                    for i, w in enumerate(wav)
                ]
                logger.experiment.log({"val/audio": audio, "trainer/global_step": step})  # type: ignore[attr-defined]
        return out
