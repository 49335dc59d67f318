"""Helpers shared by the guidance wrappers: coefficients at the query time and the (x0, eps) consistency."""

from __future__ import annotations

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, expand_like


def coefficients(process: GaussianProcess, t: Tensor, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``a, b, s`` at ``t: (B,)`` or ``()`` broadcast against ``x: (B, ...)`` (float64 math, ``x``'s dtype)."""
    c = process.coefficients64(torch.as_tensor(t).to(x.device))
    return expand_like(c.a, x), expand_like(c.b, x), expand_like(c.s, x)


def eps_from_x0(process: GaussianProcess, x: Tensor, t: Tensor, x0: Tensor, y: Tensor | None) -> Tensor:
    """``eps = (x - a x0 - b y) / s``: the noise consistent with the state ``x`` and a changed ``x0``."""
    a, b, s = coefficients(process, t, x)
    r = x - a * x0
    return (r if y is None else r - b * y) / s


def x0_from_eps(process: GaussianProcess, x: Tensor, t: Tensor, eps: Tensor, y: Tensor | None) -> Tensor:
    """``x0 = (x - s eps - b y) / a``: the data estimate consistent with the state ``x`` and a changed ``eps``."""
    a, b, s = coefficients(process, t, x)
    r = x - s * eps
    return (r if y is None else r - b * y) / a


def shift_score(
    process: GaussianProcess, x: Tensor, t: Tensor, x0: Tensor, eps: Tensor, direction: Tensor, y: Tensor | None
) -> tuple[Tensor, Tensor]:
    """Add ``direction`` to the score ``-eps / s``: ``eps' = eps - s d``, ``x0' = x0 + (s^2 / a) d``."""
    a, _, s = coefficients(process, t, x)
    d = direction.to(x.dtype)
    return x0 + (s * s / a) * d, eps - s * d
