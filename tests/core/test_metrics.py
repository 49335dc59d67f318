from __future__ import annotations

import numpy as np
import pytest

from condiff.core.metrics import frechet_distance, frechet_distance_features


def test_frechet_distance_of_commuting_gaussians_is_closed_form() -> None:
    # Diagonal covariances: FD = |mu1 - mu2|^2 + sum (sqrt(v1) - sqrt(v2))^2.
    mu1, mu2 = np.array([0.0, 1.0]), np.array([1.0, -1.0])
    v1, v2 = np.array([1.0, 4.0]), np.array([9.0, 1.0])
    expected = 1.0 + 4.0 + (1 - 3) ** 2 + (2 - 1) ** 2
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_is_zero_for_equal_and_symmetric() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 5))
    b = rng.normal(size=(5, 5))
    c1, c2 = a @ a.T, b @ b.T
    assert frechet_distance(np.zeros(5), c1, np.zeros(5), c1) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance(np.ones(5), c1, np.zeros(5), c2) == pytest.approx(
        frechet_distance(np.zeros(5), c2, np.ones(5), c1), rel=1e-8
    )


def test_frechet_from_features_converges_to_truth() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, size=(20000, 2))
    y = rng.normal(1.0, 2.0, size=(20000, 2))
    assert frechet_distance_features(x, y) == pytest.approx(2 * 1.0 + 2 * 1.0, rel=0.05)
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance_features(np.full((3, 2), np.nan), y)
