"""The SGMSE+ front end: complex STFT, amplitude compression, padding, and the exact inverse.

Richter et al. 2023 (SGMSE+), Sec. 4.1: a complex STFT (16 kHz: window 510, hop 128, periodic
Hann) whose magnitudes are compressed as ``c(z) = beta |z|^alpha e^{i angle z}`` with
``alpha = 0.5``, ``beta = 0.15``; the network sees real and imaginary parts as two channels. The
number of frames is padded to a multiple of 64 (the U-Net's total downsampling).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import torch
from torch import Tensor

from condiff.core.errors import ConfigError

COMPRESSIONS = ("exponent", "log", "none")


@dataclass(frozen=True)
class SpectrogramFrontEnd:
    """Waveform <-> compressed complex spectrogram as two real channels.

    Args:
        sample_rate: the rate the model works at (Hz).
        n_fft: FFT size (and window length); ``n_fft/2 + 1`` frequency bins.
        hop_length: hop between frames in samples.
        center: pad the waveform by ``n_fft/2`` on both sides (``torch.stft``'s ``center``).
        compression: ``exponent`` (``beta |z|^alpha``), ``log`` (``beta log(1 + |z|)``) or ``none`` (``beta z``).
        exponent: ``alpha`` of the exponent compression.
        factor: ``beta``, the scale applied after compression.
        frame_multiple: frames are zero-padded to a multiple of this.
    """

    sample_rate: int = 16000
    n_fft: int = 510
    hop_length: int = 128
    center: bool = True
    compression: str = "exponent"
    exponent: float = 0.5
    factor: float = 0.15
    frame_multiple: int = 64

    def __post_init__(self) -> None:
        if self.compression not in COMPRESSIONS:
            raise ValueError(
                f"SpectrogramFrontEnd: compression must be one of {COMPRESSIONS}, got {self.compression!r}"
            )
        if not (0 < self.hop_length <= self.n_fft):
            raise ValueError(f"SpectrogramFrontEnd: need 0 < hop_length <= n_fft, got {self.hop_length}, {self.n_fft}")
        if not self.exponent > 0 or not self.factor > 0:
            raise ValueError(
                f"SpectrogramFrontEnd: exponent and factor must be > 0, got {self.exponent}, {self.factor}"
            )
        if self.frame_multiple < 1 or self.sample_rate < 1:
            raise ValueError("SpectrogramFrontEnd: frame_multiple and sample_rate must be >= 1")

    @property
    def freq_bins(self) -> int:
        return self.n_fft // 2 + 1

    def window(self, device: torch.device | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
        """The periodic Hann window of ``n_fft`` samples."""
        return torch.hann_window(self.n_fft, periodic=True, device=device, dtype=dtype)

    # -- linear STFT -------------------------------------------------------------------
    def stft(self, wav: Tensor) -> Tensor:
        """``wav: (..., L)`` real -> complex ``(..., F, T)``, ``F = n_fft/2 + 1``, ``T = 1 + L // hop`` (center)."""
        lead = wav.shape[:-1]
        spec = torch.stft(
            wav.reshape(-1, wav.shape[-1]),
            self.n_fft,
            self.hop_length,
            window=self.window(wav.device, wav.dtype),
            center=self.center,
            return_complex=True,
        )
        return spec.reshape(*lead, *spec.shape[-2:])

    def istft(self, spec: Tensor, length: int | None = None) -> Tensor:
        """Inverse of :meth:`stft` (overlap-add, window-sum normalised); ``length`` trims or zero-pads."""
        lead = spec.shape[:-2]
        real_dtype = torch.float64 if spec.dtype == torch.complex128 else torch.float32
        wav = torch.istft(
            spec.reshape(-1, *spec.shape[-2:]),
            self.n_fft,
            self.hop_length,
            window=self.window(spec.device, real_dtype),
            center=self.center,
            length=length,
        )
        return wav.reshape(*lead, wav.shape[-1])

    # -- amplitude compression ---------------------------------------------------------
    def compress(self, spec: Tensor) -> Tensor:
        """``beta |z|^alpha e^{i angle z}`` (exponent), ``beta log(1+|z|) e^{i angle z}`` (log) or ``beta z``."""
        if self.compression == "none":
            return spec * self.factor
        mag = spec.abs()
        new = mag.pow(self.exponent) if self.compression == "exponent" else torch.log1p(mag)
        # z * new/|z| keeps the phase; where |z| = 0 the result is 0 whatever the phase.
        return self.factor * torch.where(mag > 0, spec * (new / mag.clamp_min(1e-30)), torch.zeros_like(spec))

    def decompress(self, spec: Tensor) -> Tensor:
        """The exact inverse of :meth:`compress`."""
        spec = spec / self.factor
        if self.compression == "none":
            return spec
        mag = spec.abs()
        new = mag.pow(1.0 / self.exponent) if self.compression == "exponent" else torch.expm1(mag)
        return torch.where(mag > 0, spec * (new / mag.clamp_min(1e-30)), torch.zeros_like(spec))

    # -- frames and channels ------------------------------------------------------------
    def padded_frames(self, frames: int) -> int:
        """``frames`` rounded up to a multiple of ``frame_multiple``."""
        return math.ceil(frames / self.frame_multiple) * self.frame_multiple

    def pad_frames(self, spec: Tensor) -> Tensor:
        """Zero-pad the last (time) axis to :meth:`padded_frames`."""
        pad = self.padded_frames(spec.shape[-1]) - spec.shape[-1]
        return torch.nn.functional.pad(spec, (0, pad)) if pad else spec

    def num_frames(self, length: int) -> int:
        """Frames of the STFT of ``length`` samples."""
        return 1 + length // self.hop_length if self.center else 1 + (length - self.n_fft) // self.hop_length

    def segment_length(self, frames: int) -> int:
        """Samples whose (centred) STFT has exactly ``frames`` frames: ``(frames - 1) * hop``."""
        return (frames - 1) * self.hop_length

    @staticmethod
    def to_channels(spec: Tensor) -> Tensor:
        """complex ``(B, F, T)`` -> real ``(B, 2, F, T)`` (real, imaginary)."""
        return torch.stack([spec.real, spec.imag], dim=-3)

    @staticmethod
    def from_channels(x: Tensor) -> Tensor:
        """real ``(B, 2, F, T)`` -> complex ``(B, F, T)``."""
        if x.shape[-3] != 2:
            raise ValueError(f"from_channels: expected 2 channels (real, imag) at dim -3, got shape {tuple(x.shape)}")
        return torch.complex(x.select(-3, 0).contiguous(), x.select(-3, 1).contiguous())

    # -- the whole chain -----------------------------------------------------------------
    def analyze(self, wav: Tensor) -> Tensor:
        """``wav: (B, L)`` -> network input ``(B, 2, F, T_pad)``: STFT, compression, frame padding."""
        return self.to_channels(self.pad_frames(self.compress(self.stft(wav))))

    def synthesize(self, x: Tensor, length: int) -> Tensor:
        """Inverse of :meth:`analyze`: ``x: (B, 2, F, T_pad)`` -> ``(B, length)``; padded frames are dropped."""
        frames = self.num_frames(length)
        spec = self.decompress(self.from_channels(x))[..., :frames]
        return self.istft(spec, length=length)


def normalize_by_noisy(noisy: Tensor, *others: Tensor, eps: float = 1e-8) -> tuple[Tensor, ...]:
    """SGMSE's ``normalize="noisy"``: divide every signal by ``max |noisy|`` (per item, ``(B, L)`` or ``(L,)``).

    Returns ``(noisy/scale, *others/scale, scale)``; multiply an estimate by ``scale`` to undo it.
    """
    scale = noisy.abs().amax(dim=-1, keepdim=True).clamp_min(eps)
    return (noisy / scale, *(o / scale for o in others), scale)


PRESETS: dict[str, SpectrogramFrontEnd] = {
    # Richter et al. 2023 (VoiceBank-DEMAND, WSJ0-CHiME3): 32 ms window at 16 kHz.
    "16k": SpectrogramFrontEnd(sample_rate=16000, n_fft=510, hop_length=128),
    # sgmse's 48 kHz setting (EARS): the same 32 ms window and 8 ms hop at 48 kHz, 768 bins.
    "48k": SpectrogramFrontEnd(sample_rate=48000, n_fft=1534, hop_length=384),
}


def make_front_end(spec: Mapping[str, Any] | SpectrogramFrontEnd | None = None) -> SpectrogramFrontEnd:
    """A front end from a config mapping: ``preset`` (``16k`` or ``48k``, default ``16k``) plus field overrides
    (``None`` values keep the preset's)."""
    if isinstance(spec, SpectrogramFrontEnd):
        return spec
    opts = {k: v for k, v in dict(spec or {}).items() if v is not None}
    preset = str(opts.pop("preset", "16k"))
    if preset not in PRESETS:
        raise ConfigError(
            f"config key 'front_end.preset': unknown preset {preset!r}; expected one of {sorted(PRESETS)}"
        )
    unknown = sorted(set(opts) - {f.name for f in fields(SpectrogramFrontEnd)})
    if unknown:
        raise ConfigError(f"config key 'front_end': unknown field(s) {unknown}")
    try:
        return replace(PRESETS[preset], **opts)
    except ValueError as e:
        raise ConfigError(f"config key 'front_end': {e}") from e
