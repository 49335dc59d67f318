"""The stochastic transition the particle searches branch with, and a batch's reward bookkeeping."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from condiff.core.guidance.common import coefficients
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.noise import Generators, randn

Reward = Callable[[Tensor], Tensor]


def ancestral_step(
    process: GaussianProcess,
    x: Tensor,
    t: Tensor,
    t_next: Tensor,
    x0: Tensor,
    eps: Tensor,
    y: Tensor | None = None,
    eta: float = 1.0,
    generator: Generators = None,
) -> Tensor:
    """Draw ``x_t' ~ q(x_t' | x_t, x0 = x0_hat)``, variance scaled by ``eta^2`` (DDIM, Song et al. 2021, eq. 12).

    ``x' = a' x0 + b' y + sqrt(s'^2 - v) eps + sqrt(v) z`` with ``v = eta^2 s'^2 (1 - (a s' / (a' s))^2)``;
    ``eta = 1`` is the exact posterior transition (a reverse-SDE step for any path, flow models
    included), ``eta = 0`` the deterministic PF-ODE step. Several calls from one state give
    independent children: the branching move of best-of-N, beam search, SMC and RBF.
    """
    a, _, s = coefficients(process, t, x)
    a1, b1, s1 = coefficients(process, t_next, x)
    ratio = torch.where(a1 * s > 0, a * s1 / (a1 * s).clamp_min(1e-300), torch.zeros_like(a1))
    var = (eta**2) * s1 * s1 * (1.0 - ratio * ratio).clamp_min(0.0)
    out = a1 * x0 + (s1 * s1 - var).clamp_min(0.0).sqrt() * eps
    if y is not None:
        out = out + b1 * y
    z = process.project(randn(tuple(x.shape), generator, device=x.device, dtype=x.dtype))
    return out + var.sqrt() * z


def rewards(reward: Reward, x0: Tensor) -> Tensor:
    """``reward(x0)`` checked to be finite and one value per sample, ``(N,)`` float64 on the CPU (bookkeeping)."""
    r = reward(x0)
    if r.shape != (x0.shape[0],):
        raise ValueError(f"reward must return one value per sample ({x0.shape[0]},), got {tuple(r.shape)}")
    if not bool(torch.isfinite(r).all()):
        raise ValueError("reward returned NaN or inf")
    return r.detach().to(device="cpu", dtype=torch.float64)
