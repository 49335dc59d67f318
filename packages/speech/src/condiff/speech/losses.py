"""The Schrödinger-bridge loss of Jukić et al. 2024: data prediction in the spectral domain plus a time-domain L1."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from condiff.core.parameterization import to_x0_eps
from condiff.core.processes.base import GaussianProcess, expand_like
from condiff.speech.frontend import SpectrogramFrontEnd, make_front_end


class SpectralDataPredictionLoss:
    """``0.5 mean_{f,k} |x0_hat - x0|^2 + w * 0.5 mean_n |istft(x0_hat) - istft(x0)|`` per sample.

    Jukić et al. 2024 ("Schrödinger bridge for generative speech enhancement", eq. 19), as sgmse's
    ``data_prediction`` loss: the squared complex error of the compressed spectrogram averaged over
    bins and frames, plus ``l1_weight`` times the L1 error of the waveforms (decompressed, inverse
    STFT; default ``w = 0.001``). Any parameterization is first converted to ``x0_hat``.

    Args:
        front_end: :class:`SpectrogramFrontEnd` settings (how spectrograms map back to waveforms).
        l1_weight: ``w``; ``0`` leaves the spectral term alone.
    """

    def __init__(
        self, front_end: Mapping[str, Any] | SpectrogramFrontEnd | None = None, l1_weight: float = 0.001
    ) -> None:
        if l1_weight < 0:
            raise ValueError(f"SpectralDataPredictionLoss: l1_weight must be >= 0, got {l1_weight}")
        self.front_end, self.l1_weight = make_front_end(front_end), float(l1_weight)

    def __call__(
        self,
        process: GaussianProcess,
        parameterization: str,
        output: Tensor,
        x0: Tensor,
        eps: Tensor,
        t: Tensor,
        y: Tensor | None = None,
    ) -> Tensor:
        """``output, x0: (B, 2, F, T)`` -> ``(B,)``."""
        c = process.coefficients64(t)
        x_t = expand_like(c.a, x0) * x0 + expand_like(c.s, x0) * eps
        if y is not None:
            x_t = x_t + expand_like(c.b, x0) * y
        x0_hat, _ = to_x0_eps(parameterization, output, x_t, t, process, y)
        x0_hat = x0_hat.to(x0.dtype)
        spectral = 0.5 * (x0_hat - x0).pow(2).sum(1).flatten(1).mean(1)
        if self.l1_weight == 0:
            return spectral
        length = self.front_end.segment_length(x0.shape[-1])
        wav_hat = self.front_end.synthesize(x0_hat.float(), length)
        wav = self.front_end.synthesize(x0.float(), length)
        return spectral + self.l1_weight * 0.5 * (wav_hat - wav).abs().mean(-1).to(spectral.dtype)
