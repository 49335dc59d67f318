"""Fréchet distance between Gaussians fitted to two feature sets (the FID formula)."""

from __future__ import annotations

import numpy as np
from scipy import linalg
from torch import Tensor


def gaussian_stats(features: Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance of ``features: (N, D)`` in float64."""
    f = np.asarray(features.detach().cpu() if isinstance(features, Tensor) else features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"gaussian_stats: need features of shape (N >= 2, D), got {f.shape}")
    if not np.isfinite(f).all():
        raise ValueError("gaussian_stats: features contain NaN or inf")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    """``||mu1 - mu2||^2 + tr(C1 + C2 - 2 (C1 C2)^{1/2})`` (Heusel et al. 2017, FID).

    The matrix square root is taken as ``(C1^{1/2} C2 C1^{1/2})^{1/2}``, which has the
    same trace and is symmetric positive semi-definite, so eigen-decompositions suffice.
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    cov1, cov2 = np.atleast_2d(cov1), np.atleast_2d(cov2)
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape:
        raise ValueError(f"frechet_distance: shapes differ: {mu1.shape}/{mu2.shape}, {cov1.shape}/{cov2.shape}")
    w, v = linalg.eigh(cov1)
    sqrt1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = sqrt1 @ cov2 @ sqrt1
    tr_sqrt = np.sqrt(np.clip(linalg.eigvalsh((m + m.T) / 2), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2 * tr_sqrt)


def frechet_distance_features(a: Tensor | np.ndarray, b: Tensor | np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a: (N, D)`` and ``b: (M, D)``."""
    return frechet_distance(*gaussian_stats(a), *gaussian_stats(b))


__all__ = ["frechet_distance", "frechet_distance_features", "gaussian_stats"]
