"""PSNR/SSIM agree with scikit-image's reference implementations, on RGB and on Y."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from condiff.restoration.metrics import psnr, restoration_metrics, rgb_to_y, ssim

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    clean = data.astronaut()[:128, :128].astype(np.float64) / 255.0
    rng = np.random.default_rng(0)
    noisy = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1)
    return clean, noisy


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(x).permute(2, 0, 1)[None]


def test_y_channel_matches_skimage_bt601(pair) -> None:
    clean, _ = pair
    expected = rgb2ycbcr(clean)[..., 0] / 255.0
    np.testing.assert_allclose(rgb_to_y(_t(clean))[0, 0].numpy(), expected, atol=1e-10)


def test_psnr_and_ssim_match_skimage(pair) -> None:
    clean, noisy = pair
    assert psnr(_t(noisy), _t(clean)).item() == pytest.approx(
        peak_signal_noise_ratio(clean, noisy, data_range=1.0), abs=1e-4
    )
    ref_ssim = structural_similarity(
        clean, noisy, channel_axis=2, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert ssim(_t(noisy), _t(clean)).item() == pytest.approx(ref_ssim, abs=1e-6)
    y_clean, y_noisy = rgb2ycbcr(clean)[..., 0] / 255.0, rgb2ycbcr(noisy)[..., 0] / 255.0
    assert psnr(_t(noisy), _t(clean), y_channel=True).item() == pytest.approx(
        peak_signal_noise_ratio(y_clean, y_noisy, data_range=1.0), abs=1e-4
    )


def test_metrics_rank_a_better_restoration_higher(pair) -> None:
    clean, noisy = pair
    half = 0.5 * (noisy + clean)
    worse, better = restoration_metrics(_t(noisy), _t(clean)), restoration_metrics(_t(half), _t(clean))
    for k in ("psnr_rgb", "psnr_y", "ssim_rgb", "ssim_y"):
        assert better[k] > worse[k]
    assert better["mae"] < worse["mae"]
    assert worse["psnr_y"] != worse["psnr_rgb"]  # the two conventions differ and are both reported
    with pytest.raises(ValueError, match="must match"):
        psnr(_t(noisy), _t(clean)[..., :64])
