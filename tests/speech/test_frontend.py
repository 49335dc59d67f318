"""The STFT front end: exact round trip, compression inverses, padding, normalisation, presets."""

from __future__ import annotations

import pytest
import torch

from condiff.core.errors import ConfigError
from condiff.speech.frontend import PRESETS, SpectrogramFrontEnd, make_front_end, normalize_by_noisy


@pytest.mark.parametrize("compression", ["exponent", "log", "none"])
@pytest.mark.parametrize("length", [16000, 12345, 300])
def test_round_trip_is_exact(compression: str, length: int) -> None:
    fe = make_front_end({"compression": compression})
    wav = torch.randn(3, length, generator=torch.Generator().manual_seed(length)) * 0.3
    x = fe.analyze(wav)
    assert x.shape[:3] == (3, 2, 256)
    assert x.shape[-1] % 64 == 0
    assert x.shape[-1] >= fe.num_frames(length)
    back = fe.synthesize(x, length)
    assert back.shape == wav.shape
    assert (back - wav).abs().max().item() < 1e-5


def test_48k_preset_round_trip() -> None:
    fe = PRESETS["48k"]
    assert (fe.sample_rate, fe.n_fft, fe.hop_length, fe.freq_bins) == (48000, 1534, 384, 768)
    wav = torch.randn(1, 48000, generator=torch.Generator().manual_seed(0)) * 0.3
    assert (fe.synthesize(fe.analyze(wav), 48000) - wav).abs().max().item() < 1e-5


def test_paper_settings_and_compression_formula() -> None:
    fe = make_front_end(None)
    assert (fe.n_fft, fe.hop_length, fe.exponent, fe.factor, fe.frame_multiple) == (510, 128, 0.5, 0.15, 64)
    z = torch.tensor([3 + 4j, 0j, -1j], dtype=torch.complex64)
    c = fe.compress(z)
    assert torch.allclose(c.abs(), 0.15 * z.abs().sqrt())
    assert torch.allclose(c[0].angle(), z[0].angle())
    assert c[1] == 0
    assert torch.allclose(fe.decompress(c), z, atol=1e-6)
    assert torch.allclose(make_front_end({"compression": "log"}).compress(z).abs(), 0.15 * torch.log1p(z.abs()))


def test_window_is_periodic_hann_and_segment_length_gives_the_frames() -> None:
    fe = make_front_end(None)
    n = torch.arange(510)
    assert torch.allclose(fe.window(), 0.5 - 0.5 * torch.cos(2 * torch.pi * n / 510), atol=1e-6)
    assert fe.num_frames(fe.segment_length(256)) == 256


def test_normalize_by_noisy() -> None:
    noisy, clean = torch.tensor([[0.5, -2.0, 1.0]]), torch.tensor([[0.2, -1.0, 0.4]])
    n, c, scale = normalize_by_noisy(noisy, clean)
    assert n.abs().max() == 1.0
    assert torch.allclose(c * scale, clean)


def test_bad_settings_name_the_key() -> None:
    with pytest.raises(ConfigError, match="preset"):
        make_front_end({"preset": "22k"})
    with pytest.raises(ConfigError, match="n_ftt"):
        make_front_end({"n_ftt": 512})
    with pytest.raises(ValueError, match="compression"):
        SpectrogramFrontEnd(compression="cube")
    with pytest.raises(ValueError, match="2 channels"):
        SpectrogramFrontEnd.from_channels(torch.zeros(1, 3, 4, 4))
