"""Noise for the built-in data: white, pink, brown, babble, hum and speech-shaped, mixed at a given SNR."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

NOISE_TYPES = ("white", "pink", "brown", "babble", "hum", "speech_shaped")


def _power_law(rng: np.random.Generator, length: int, exponent: float) -> Tensor:
    """Gaussian noise with power spectral density ``~ 1/f^exponent`` (0 white, 1 pink, 2 brown), unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(length))
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = f[1] if len(f) > 1 else 1.0
    x = np.fft.irfft(spec / f ** (exponent / 2.0), n=length)
    return torch.from_numpy(x / (np.sqrt(np.mean(x * x)) + 1e-12)).float()


def _hum(rng: np.random.Generator, length: int, sample_rate: int) -> Tensor:
    """Mains hum: 50 or 60 Hz with decaying harmonics, slight frequency drift, plus a little white noise."""
    f0 = float(rng.choice([50.0, 60.0])) * (1 + 0.01 * rng.standard_normal())
    t = np.arange(length) / sample_rate
    x = sum(
        (0.6**k) * np.sin(2 * math.pi * f0 * (k + 1) * t + rng.uniform(0, 2 * math.pi)) for k in range(8)
    ) + 0.05 * rng.standard_normal(length)
    return torch.from_numpy(x / np.sqrt(np.mean(x * x))).float()


def _speech_shaped(rng: np.random.Generator, length: int, speech: Sequence[Tensor]) -> Tensor:
    """White noise filtered by the long-term average magnitude spectrum of ``speech`` (unit RMS)."""
    n = length
    avg = np.zeros(n // 2 + 1)
    for s in speech:
        avg += np.abs(np.fft.rfft(s.numpy(), n=n))
    kernel = np.ones(33) / 33  # smooth the spectrum: the shape of speech, not its harmonics
    avg = np.convolve(avg, kernel, mode="same")
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) * avg, n=n)
    return torch.from_numpy(x / (np.sqrt(np.mean(x * x)) + 1e-12)).float()


def _babble(rng: np.random.Generator, length: int, speech: Sequence[Tensor]) -> Tensor:
    """Three to five other talkers summed at random offsets (looped to ``length``), unit RMS."""
    x = torch.zeros(length)
    for k in rng.choice(len(speech), size=min(len(speech), int(rng.integers(3, 6))), replace=False):
        s = speech[int(k)]
        reps = math.ceil((length + len(s)) / len(s))
        looped = s.repeat(reps)
        start = int(rng.integers(0, len(s)))
        x += looped[start : start + length] * float(rng.uniform(0.5, 1.0))
    return x / (x.pow(2).mean().sqrt() + 1e-12)


def make_noise(
    kind: str, rng: np.random.Generator, length: int, sample_rate: int, other_speech: Sequence[Tensor] = ()
) -> Tensor:
    """Unit-RMS noise ``(length,)`` of type ``kind`` (one of :data:`NOISE_TYPES`)."""
    if kind in ("white", "pink", "brown"):
        return _power_law(rng, length, {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind])
    if kind == "hum":
        return _hum(rng, length, sample_rate)
    if kind in ("babble", "speech_shaped"):
        if not other_speech:
            raise ValueError(f"make_noise: {kind!r} noise needs other speech")
        fn = _babble if kind == "babble" else _speech_shaped
        return fn(rng, length, other_speech)
    raise ValueError(f"make_noise: unknown noise type {kind!r}; expected one of {NOISE_TYPES}")


def mix_at_snr(clean: Tensor, noise: Tensor, snr_db: float) -> Tensor:
    """``clean + k noise`` with ``k`` such that ``10 log10(P_clean / P_{k noise}) = snr_db``."""
    p_s = clean.pow(2).mean()
    p_n = noise.pow(2).mean().clamp_min(1e-20)
    return clean + noise * torch.sqrt(p_s / (p_n * 10 ** (snr_db / 10)))
