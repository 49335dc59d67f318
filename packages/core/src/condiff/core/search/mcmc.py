"""Denoising MCMC (Kim & Ye 2022, "Denoising MCMC for accelerating diffusion-based generative models").

An MCMC chain runs on the product space of data and noise level ``(x, t)`` (their Denoising
Langevin Gibbs, DLG, Algorithm 1), alternating

* an ``x``-step: Langevin dynamics on ``p_t(x)`` with the denoiser's score ``-eps_hat / s``,
  ``x <- x + d score + sqrt(2 d) z`` with ``d = step_size * s(t)^2``;
* a ``t``-step: the noise level of the state is updated. DLG draws it from a trained noise-level
  classifier ``p(t | x)`` (:class:`~condiff.core.search.noise_level.NoiseLevelClassifier`, passed as
  ``noise_level=classifier.noise_level()``), a Gibbs step on ``pi(t) p_t(x)``. Without one the
  level follows a linear annealing path from ``t_init`` to ``t_final`` (annealed Langevin,
  Song & Ermon 2019), which needs no model of ``p(t | x)``.

Each chain's state is then raised to the next of a few common levels ``t*`` by the exact forward
transition ``x' = (a*/a) x + (b* - a* b / a) y + sqrt(s*^2 - (a* s / a)^2) z`` and finished with
any solver of :func:`~condiff.core.sampling.sample` from ``t_start = t*`` (one solve per level).

A short chain lags its annealing path: on a 2-D mixture, 20 steps to ``t = 0.6`` are exact to
0.01 in mode weight under VP but off by 0.07-0.11 under VE; Gibbs steps with a trained classifier
over levels 0.3-0.7 bring that to 0.04-0.07 at the same NFE (docs/inference.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from condiff.core.guidance.common import coefficients
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.noise import Generators, randn
from condiff.core.sampling.solvers import sample


@dataclass
class MCMCResult:
    """``x`` the finished samples, ``t_chain: (B,)`` the chain's last noise levels, ``t_start: (B,)`` the level
    each finish started from, ``nfe`` denoiser evaluations per sample (chain + finish)."""

    x: Tensor
    t_chain: Tensor
    t_start: Tensor
    nfe: int


def denoising_mcmc(
    denoiser: Denoiser,
    process: GaussianProcess,
    shape: tuple[int, ...],
    *,
    iterations: int,
    step_size: float = 0.1,
    finish_steps: int = 10,
    method: str = "unipc",
    bins: int = 8,
    t_init: float | None = None,
    t_final: float | None = None,
    noise_level: Callable[[Tensor, Tensor], Tensor] | None = None,
    y: Tensor | None = None,
    x_init: Tensor | None = None,
    generator: Generators = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    **options: Any,
) -> MCMCResult:
    """Denoising Langevin Gibbs for ``iterations`` steps from the prior (or ``x_init`` at ``t_init``), then a
    ``finish_steps`` solve with ``method`` (module docstring).

    Args:
        t_init: the chain's first level (default ``T``).
        t_final: the last level of the default annealing path (default the middle of ``[t_min, T]``).
        noise_level: ``(x, x0_hat) -> t: (B,)``, e.g. a trained noise-level classifier, replacing the
            annealing path.
        bins: the finish groups the chains into at most ``bins`` levels (uniform in ``t``, each chain
            rounded up to the next level) and runs one solve per group.
        options: passed to :func:`sample` for the finish.
    """
    if iterations < 0 or finish_steps < 1 or step_size <= 0:
        raise ValueError(f"denoising_mcmc: need iterations >= 0, finish_steps >= 1, step_size > 0; got "
                         f"{iterations}, {finish_steps}, {step_size}")  # fmt: skip
    b = shape[0]
    t = torch.full((b,), process.T if t_init is None else float(t_init), dtype=torch.float64)
    if x_init is None:
        noise = randn(shape, generator, dtype=dtype, device=device)
        x = process.prior_sample(shape, y=y, dtype=dtype, device=device, noise=noise)
    else:
        x = x_init.to(dtype)
    t0 = float(t[0])
    t1 = 0.5 * (process.t_min + process.T) if t_final is None else float(t_final)
    for i in range(iterations):
        _, _, s = coefficients(process, t, x)
        x0, eps = denoiser(x, t.to(x.device))
        d = step_size * s * s
        z = process.project(randn(shape, generator, dtype=dtype, device=x.device))
        x = x - d * eps.to(x.dtype) / s + (2 * d).sqrt() * z
        if noise_level is not None:
            t = torch.as_tensor(noise_level(x, x0.to(x.dtype)), dtype=torch.float64).clamp(process.t_min, process.T)
        else:
            t = torch.full_like(t, t0 + (t1 - t0) * (i + 1) / iterations)
    levels = _bin_levels(process, t, bins)
    out = torch.empty_like(x)
    nfe = 0
    for level in levels.unique():
        idx = (levels == level).nonzero().squeeze(1).to(x.device)
        yi = y[idx] if (y is not None and y.ndim > 0 and y.shape[0] == b) else y
        xi = _renoise(process, x[idx], t[idx], float(level), yi, generator)
        res = sample(denoiser, process, xi, y=yi, steps=finish_steps, method=method, t_start=float(level),
                     dtype=dtype, generator=generator, **options)  # fmt: skip
        out[idx] = res.x
        nfe = max(nfe, res.nfe)
    return MCMCResult(x=out, t_chain=t, t_start=levels, nfe=iterations + nfe)


def _bin_levels(process: GaussianProcess, t: Tensor, bins: int) -> Tensor:
    """Each ``t`` rounded up to the uniform grid of ``bins`` levels over ``(t_min, T]``."""
    if bins < 1:
        raise ValueError(f"denoising_mcmc: bins must be >= 1, got {bins}")
    width = (process.T - process.t_min) / bins
    k = torch.ceil((t - process.t_min) / width - 1e-9).clamp(1, bins)
    return process.t_min + k * width


def _renoise(
    process: GaussianProcess, x: Tensor, t: Tensor, t_star: float, y: Tensor | None, generator: Generators
) -> Tensor:
    """Exact forward transition from per-sample levels ``t`` to the common ``t_star >= t``."""
    a, b, s = coefficients(process, t, x)
    a1, b1, s1 = coefficients(process, torch.full_like(t, t_star), x)
    k = a1 / a
    var = (s1 * s1 - (k * s) ** 2).clamp_min(0.0)
    out = k * x + var.sqrt() * process.project(randn(tuple(x.shape), generator, dtype=x.dtype, device=x.device))
    return out if y is None else out + (b1 - k * b) * y
