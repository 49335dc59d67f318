"""Field images and codecs: exact round trips, the paper's per-channel scaling, which channels hold which field."""

from __future__ import annotations

import math

import pytest
import torch

from condiff.pde.codec import PixelCodec, WaveletCodec
from condiff.pde.fields import condition_fields, fourier_upsample, split_fields, trajectory_fields
from condiff.pde.wavelets import pack, wavedecn


def _fields(b: int = 3, t: int = 16, n: int = 32, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, 2, t, n, generator=g, dtype=torch.float64) * torch.tensor([1.0, 0.1]).view(1, 2, 1, 1)


def test_trajectory_fields_pad_the_forcing_and_split_back() -> None:
    u, f = torch.randn(2, 5, 8), torch.randn(2, 4, 8)
    fields = trajectory_fields(u, f)
    assert fields.shape == (2, 2, 5, 8)
    assert torch.equal(fields[:, 1, -1], torch.zeros(2, 8))
    u2, f2 = split_fields(fields)
    assert torch.equal(u2, u)
    assert torch.equal(f2, f)
    with pytest.raises(ValueError, match="forcing"):
        trajectory_fields(u, f[:, :3])


def test_condition_fields_repeat_the_known_states_over_time() -> None:
    u0, ut = torch.randn(2, 8), torch.randn(2, 8)
    cond = condition_fields(u0, 6, ut)
    assert cond.shape == (2, 2, 6, 8)
    assert torch.equal(cond[:, 0, 4], u0)
    assert torch.equal(cond[:, 1, 0], ut)
    assert condition_fields(u0, 6).shape == (2, 1, 6, 8)
    coarse = torch.randn(2, 6, 8)
    with_coarse = condition_fields(u0, 6, coarse=coarse)
    assert with_coarse.shape == (2, 2, 6, 8)
    assert torch.equal(with_coarse[:, 1], coarse)
    with pytest.raises(ValueError, match="coarse"):
        condition_fields(u0, 6, coarse=coarse[:, :5])


def test_fourier_upsampling_is_exact_for_band_limited_fields() -> None:
    def f(x: torch.Tensor) -> torch.Tensor:  # modes up to the coarse grid's Nyquist mode (8 of 16 points)
        return torch.sin(6 * math.pi * x) + 0.5 * torch.cos(10 * math.pi * x) + 0.2 * torch.cos(16 * math.pi * x)

    coarse, fine = torch.arange(16).double() / 16, torch.arange(64).double() / 64
    up = fourier_upsample(f(coarse).expand(3, 2, -1), factor=4)
    torch.testing.assert_close(up, f(fine).expand(3, 2, -1), atol=1e-13, rtol=0)
    torch.testing.assert_close(up[..., ::4], f(coarse).expand(3, 2, -1), atol=1e-14, rtol=0)


@pytest.mark.parametrize(("wavelet", "level"), [("bior2.4", 1), ("db2", 2), ("haar", 1)])
def test_wavelet_codec_is_the_scaled_packed_dwt_and_inverts_exactly(wavelet: str, level: int) -> None:
    x = _fields()
    codec = WaveletCodec(2, wavelet, level).fit(x)
    state = codec.encode(x)
    assert state.shape == (3, 2 * 4**level, 16 // 2**level, 32 // 2**level)
    raw = pack(wavedecn(x, wavelet, level, "periodization", ndim=2))
    torch.testing.assert_close(state * codec.scale.double().view(1, -1, 1, 1), raw, atol=1e-12, rtol=1e-6)
    torch.testing.assert_close(codec.decode(state, (16, 32)), x, atol=1e-10, rtol=0)
    # per-channel scaling: every channel at unit standard deviation on the data it was fitted on
    torch.testing.assert_close(
        state.transpose(0, 1).flatten(1).std(dim=1), torch.ones(2 * 4**level).double(), atol=1e-5, rtol=0
    )


def test_field_scaling_keeps_the_subband_weighting() -> None:
    x = _fields()
    codec = WaveletCodec(2, "haar", 1).fit(x, per="field")
    scale = codec.scale
    assert len(set(scale[codec.field_channels(0)].tolist())) == 1
    assert scale[codec.field_channels(1)][0] < 0.2 * scale[codec.field_channels(0)][0]  # f is 10x smaller


def test_field_channels_hold_one_field_each() -> None:
    for codec in (WaveletCodec(2, "bior2.4", 1), WaveletCodec(3, "db2", 2), PixelCodec(2)):
        owned = [codec.field_channels(c) for c in range(codec.channels)]
        assert sorted(c for group in owned for c in group) == list(range(codec.state_channels))
        x = torch.zeros(1, codec.channels, 8, 8, dtype=torch.float64)
        x[:, 1] = torch.randn(8, 8, dtype=torch.float64)
        state = codec.transform(x)
        others = [c for c in range(codec.state_channels) if c not in owned[1]]
        assert state[:, others].abs().max() == 0
    with pytest.raises(ValueError, match="outside"):
        PixelCodec(2).field_channels(2)


def test_time_constant_conditions_do_not_amplify_rounding() -> None:
    cond = condition_fields(torch.randn(4, 32, dtype=torch.float64), 16)
    codec = WaveletCodec(1, "bior2.4", 1).fit(cond)
    time_detail = [c for c in range(4) if codec.transform(cond)[:, c].abs().max() < 1e-10]
    assert time_detail  # the bands that are zero up to rounding ...
    assert all(codec.scale[c] == 1.0 for c in time_detail)  # ... keep scale 1
    assert codec.encode(cond)[:, time_detail].abs().max() < 1e-10


def test_bad_shapes_are_rejected() -> None:
    codec = WaveletCodec(2, "haar", 2)
    with pytest.raises(ValueError, match="divisible"):
        codec.encode(torch.zeros(1, 2, 6, 8))
    with pytest.raises(ValueError, match=r"\(B, 2, T, N\)"):
        codec.encode(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match="unknown discrete wavelet"):
        WaveletCodec(2, "nope")
