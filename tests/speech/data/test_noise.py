"""Noise generators have the spectra they are named after, and mixing hits the requested SNR exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from condiff.speech.data.noise import NOISE_TYPES, make_noise, mix_at_snr


def _slope(x: torch.Tensor, rate: int = 16000) -> float:
    """Log-log slope of the power spectrum between 50 Hz and 4 kHz."""
    p = np.abs(np.fft.rfft(x.numpy())) ** 2
    f = np.fft.rfftfreq(len(x), 1 / rate)
    band = (f > 50) & (f < 4000)
    return float(np.polyfit(np.log(f[band]), np.log(p[band] + 1e-20), 1)[0])


@pytest.mark.parametrize(("kind", "slope"), [("white", 0.0), ("pink", -1.0), ("brown", -2.0)])
def test_power_law_noise_slopes(kind: str, slope: float) -> None:
    x = make_noise(kind, np.random.default_rng(0), 64000, 16000)
    assert _slope(x) == pytest.approx(slope, abs=0.1)
    assert x.pow(2).mean().sqrt().item() == pytest.approx(1.0, rel=1e-4)


def test_every_noise_type_is_unit_rms_and_hum_sits_at_mains_frequency() -> None:
    speech = [torch.randn(5000, generator=torch.Generator().manual_seed(i)) for i in range(6)]
    for kind in NOISE_TYPES:
        x = make_noise(kind, np.random.default_rng(1), 16000, 16000, speech)
        assert x.shape == (16000,)
        assert x.pow(2).mean().sqrt().item() == pytest.approx(1.0, rel=1e-3), kind
    hum = make_noise("hum", np.random.default_rng(1), 16000, 16000)
    peak = np.fft.rfftfreq(16000, 1 / 16000)[np.argmax(np.abs(np.fft.rfft(hum.numpy())))]
    assert 48 < peak < 62
    with pytest.raises(ValueError, match="other speech"):
        make_noise("babble", np.random.default_rng(0), 100, 16000)
    with pytest.raises(ValueError, match="unknown noise type"):
        make_noise("rain", np.random.default_rng(0), 100, 16000)


def test_mix_at_snr_is_exact() -> None:
    g = torch.Generator().manual_seed(0)
    clean, noise = (
        torch.randn(8000, generator=g, dtype=torch.float64),
        torch.randn(8000, generator=g, dtype=torch.float64),
    )
    for snr in (0.0, 7.5, 20.0):
        mixed = mix_at_snr(clean, noise, snr)
        got = 10 * torch.log10(clean.pow(2).mean() / (mixed - clean).pow(2).mean())
        assert got.item() == pytest.approx(snr, abs=1e-9)
