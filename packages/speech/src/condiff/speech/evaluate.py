"""The speech evaluator: PESQ, ESTOI, SI-SDR/SIR/SAR of enhanced spectrograms and of the noisy input (baseline)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor

from condiff.speech.frontend import SpectrogramFrontEnd, make_front_end
from condiff.speech.metrics import speech_metrics, summarize


class SpeechEvaluator:
    """Metrics of enhanced spectrograms against ``reference``; ``input_*`` the same for the noisy ``y``.

    Spectrograms ``(B, 2, F, T)`` are turned back into waveforms of ``(T - 1) hop`` samples by the
    front end's exact inverse. Returns the means and standard deviations over items.

    Args:
        front_end: :class:`SpectrogramFrontEnd` settings (those the data module used).
        baseline: also score the noisy input (keys ``input_<metric>``).
    """

    def __init__(self, front_end: Mapping[str, Any] | SpectrogramFrontEnd | None = None, baseline: bool = True) -> None:
        self.front_end, self.baseline = make_front_end(front_end), baseline

    def waveforms(self, spec: Tensor) -> Tensor:
        """``(B, 2, F, T)`` -> ``(B, (T - 1) hop)``."""
        return self.front_end.synthesize(spec.float(), self.front_end.segment_length(spec.shape[-1]))

    def __call__(self, samples: Tensor, cond: Mapping[str, Any]) -> dict[str, float]:
        if "reference" not in cond or "y" not in cond:
            raise ValueError("SpeechEvaluator needs the clean ('reference') and noisy ('y') spectrogram of each sample")
        est, ref, noisy = (self.waveforms(v) for v in (samples, cond["reference"], cond["y"]))
        sr = self.front_end.sample_rate
        out = summarize([speech_metrics(e, r, n, sr) for e, r, n in zip(est, ref, noisy, strict=True)])
        if self.baseline:
            base = summarize([speech_metrics(n, r, n, sr) for r, n in zip(ref, noisy, strict=True)])
            out.update({f"input_{k}": v for k, v in base.items() if not k.startswith(("si_sir", "si_sar"))})
        return out
