"""Shared helper of the GeoTDM tests: random orthogonal maps for e3nn ``assert_equivariant``-style checks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch


def _random_orthogonal(seed: int, reflect: bool) -> torch.Tensor:
    """A random 3x3 rotation (``det = +1``) or rotation-reflection (``det = -1``) in float64."""
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    if (torch.det(q) < 0) != reflect:
        q[:, 0] = -q[:, 0]
    return q


@pytest.fixture
def orthogonal() -> Callable[[int, bool], torch.Tensor]:
    """``orthogonal(seed, reflect)`` -> a (3, 3) float64 orthogonal matrix with determinant ``-1`` iff ``reflect``."""
    return _random_orthogonal
