"""Audio files: read and write with soundfile, resample with torchaudio; errors name the file."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from torch import Tensor

from condiff.core.errors import DataValidationError

AUDIO_SUFFIXES = (".wav", ".flac")


def audio_info(path: str | os.PathLike[str]) -> sf._SoundFileInfo:
    """Header of an audio file (sample rate, channels, frames) without reading the samples."""
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise DataValidationError(f"{path}: not a readable audio file ({e})") from e


def read_audio(path: str | os.PathLike[str], sample_rate: int | None = None, mono: bool = True) -> tuple[Tensor, int]:
    """``(wav (L,) float32, rate)``; resampled to ``sample_rate`` when given; ``mono`` averages channels.

    Raises:
        DataValidationError: unreadable file, NaN/inf samples, or several channels with ``mono=False``.
    """
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as e:
        raise DataValidationError(f"{path}: not a readable audio file ({e})") from e
    if not np.isfinite(data).all():
        raise DataValidationError(f"{path}: contains NaN or infinite samples")
    if data.shape[1] > 1 and not mono:
        raise DataValidationError(f"{path}: expected mono audio, found {data.shape[1]} channels")
    wav = torch.from_numpy(data.mean(axis=1) if data.shape[1] > 1 else data[:, 0])
    if sample_rate is not None and rate != sample_rate:
        wav = resample(wav, rate, sample_rate)
        rate = sample_rate
    return wav, int(rate)


def write_audio(path: str | os.PathLike[str], wav: Tensor, sample_rate: int) -> Path:
    """Write ``wav: (L,)`` as 16-bit PCM wav (clipped to [-1, 1]); creates the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = wav.detach().float().cpu().clamp(-1.0, 1.0).numpy()
    sf.write(str(path), data, int(sample_rate), subtype="PCM_16")
    return path


@functools.lru_cache(maxsize=16)
def _resampler(orig: int, new: int) -> torch.nn.Module:
    import torchaudio.transforms as T

    return T.Resample(orig, new)  # builds the sinc kernel once per rate pair


def resample(wav: Tensor, orig: int, new: int) -> Tensor:
    """Band-limited resampling ``orig -> new`` Hz (torchaudio's windowed sinc, Hann window); identity when equal."""
    if orig == new:
        return wav
    r = _resampler(int(orig), int(new))
    with torch.no_grad():
        return r.to(wav.device, wav.dtype)(wav)
