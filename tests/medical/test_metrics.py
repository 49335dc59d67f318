"""Metrics against exact answers: PSNR/NMSE formulas, SSIM against scikit-image, Dice/HD95 of known shapes,
calibration of known probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from condiff.medical.metrics import (
    dice,
    expected_calibration_error,
    hd95,
    nmse,
    psnr,
    ssim,
    uncertainty_error_correlation,
)


def test_psnr_and_nmse_are_exact() -> None:
    target = torch.full((2, 1, 8, 8), 0.5, dtype=torch.float64)
    pred = target + torch.tensor([0.1, 0.01], dtype=torch.float64).reshape(2, 1, 1, 1)
    torch.testing.assert_close(psnr(pred, target), torch.tensor([20.0, 40.0], dtype=torch.float64))
    torch.testing.assert_close(nmse(pred, target), torch.tensor([0.04, 0.0004], dtype=torch.float64))


def test_ssim_matches_scikit_image() -> None:
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    a = rng.random((32, 32))
    b = np.clip(a + 0.1 * rng.standard_normal((32, 32)), 0, 1)
    ref = structural_similarity(b, a, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    ours = ssim(torch.from_numpy(b)[None, None], torch.from_numpy(a)[None, None])
    assert float(ours) == pytest.approx(ref, abs=1e-6)


def test_dice_and_hd95_of_shifted_squares() -> None:
    target = torch.zeros(2, 1, 32, 32)
    target[:, :, 8:24, 8:24] = 1
    pred = torch.zeros_like(target)
    pred[0, :, 8:24, 11:27] = 1  # shifted by 3 columns
    assert float(dice(pred, target)[0]) == pytest.approx(2 * 16 * 13 / (2 * 256))
    assert float(dice(pred, target)[1]) == 0.0
    h = hd95(pred, target)
    assert float(h[0]) == pytest.approx(3.0)
    assert math.isnan(float(h[1]))  # empty prediction: undefined, not a number that looks good


def test_calibration_error_and_uncertainty_correlation() -> None:
    g = torch.Generator().manual_seed(0)
    p = torch.rand(4, 1, 64, 64, generator=g)
    labels = (torch.rand(4, 1, 64, 64, generator=g) < p).float()  # labels drawn with probability p: calibrated
    assert float(expected_calibration_error(p, labels).mean()) < 0.03
    overconfident = (p > 0.5).float()
    assert float(expected_calibration_error(overconfident, labels).mean()) > 0.2
    mean = torch.rand(1, 1, 32, 32, generator=g)
    target = torch.zeros_like(mean)
    assert uncertainty_error_correlation(mean, mean, target) == pytest.approx(1.0)
    assert uncertainty_error_correlation(1 - mean, mean, target) == pytest.approx(-1.0)
