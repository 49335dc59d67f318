"""Inference-time search with a reward: best-of-N, beam search, sequential Monte Carlo, Rollover Budget Forcing.

After Kim et al. (2025, "Inference-time scaling for flow models via stochastic generation and
Rollover Budget Forcing"): a reward ``r(x0)`` is read on the denoiser's look-ahead ``x0_hat``
at every intermediate time, and particles branch by the stochastic transition
:func:`~condiff.core.search.transition.ancestral_step` (the reverse SDE of any path; for a
flow model this is its SDE conversion). Each function returns ``B`` outputs and ``nfe``, the
denoiser evaluations spent per output (a call on ``K`` states counts ``K``), so methods are
compared at equal NFE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.grids import time_grid
from condiff.core.sampling.noise import Generators, randn
from condiff.core.sampling.solvers import sample
from condiff.core.search.transition import Reward, ancestral_step, rewards

GridSpec = str | Sequence[float] | Tensor


@dataclass
class SearchResult:
    """``x: (B, ...)`` the chosen samples, ``reward: (B,)`` their rewards, ``nfe`` evaluations per output."""

    x: Tensor
    reward: Tensor
    nfe: float


def _prior(
    process: GaussianProcess, shape: tuple[int, ...], y: Tensor | None, generator: Generators, dtype: Any, device: Any
) -> Tensor:
    noise = randn(shape, generator, dtype=dtype, device=device)
    return process.prior_sample(shape, y=y, dtype=dtype, device=device, noise=noise)


def _times(t: Tensor, x: Tensor) -> Tensor:
    """The grid time for every row of ``x``, on its device (float64 except on MPS)."""
    dtype = torch.float32 if x.device.type == "mps" else torch.float64
    return t.to(device=x.device, dtype=dtype).expand(x.shape[0])


def _repeat(y: Tensor | None, k: int, n: int) -> Tensor | None:
    """The process condition for ``n * k`` particles (each of ``n`` rows repeated ``k`` times)."""
    if y is None or y.ndim == 0 or y.shape[0] != n:
        return y
    return y.repeat_interleave(k, 0)


def best_of_n(
    denoiser: Denoiser,
    process: GaussianProcess,
    reward: Reward,
    shape: tuple[int, ...],
    n: int,
    *,
    steps: int,
    method: str = "unipc",
    y: Tensor | None = None,
    generator: Generators = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    **options: Any,
) -> SearchResult:
    """Draw ``n`` samples per output with any solver of :func:`sample` and keep the highest reward."""
    b = shape[0]
    out = sample(denoiser, process, y=_repeat(y, n, b), shape=(b * n, *shape[1:]), steps=steps, method=method,
                 generator=generator, dtype=dtype, device=device, **options)  # fmt: skip
    r = rewards(reward, out.x).reshape(b, n)
    best = r.argmax(1).to(out.x.device)
    x = out.x.reshape(b, n, *shape[1:])[torch.arange(b, device=out.x.device), best]
    return SearchResult(x=x, reward=r.max(1).values, nfe=float(out.nfe * n))


def smc(
    denoiser: Denoiser,
    process: GaussianProcess,
    reward: Reward,
    shape: tuple[int, ...],
    particles: int,
    *,
    steps: int,
    temperature: float = 1.0,
    ess_threshold: float = 0.5,
    eta: float = 1.0,
    schedule: GridSpec = "uniform",
    y: Tensor | None = None,
    generator: Generators = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> SearchResult:
    """Sequential Monte Carlo toward ``p(x0) exp(temperature * r(x0))``, ``particles`` per output.

    Potentials ``G_i = exp(temperature (r(x0_hat_i) - r(x0_hat_{i-1})))`` (the difference potential of
    Feynman-Kac steering, Singhal et al. 2025, eq. 6, as used by Kim et al. 2025); multinomial
    resampling within each output's population when the effective sample size falls below
    ``ess_threshold * particles``; the highest-reward final particle is returned.
    """
    b, k = shape[0], particles
    n = b * k
    grid = time_grid(process, steps, schedule)
    yk = _repeat(y, k, b)
    x = _prior(process, (n, *shape[1:]), yk, generator, dtype, device)
    logw = torch.zeros(b, k, dtype=torch.float64)
    r_prev = torch.zeros(b, k, dtype=torch.float64)
    for i in range(steps):
        x0, eps = denoiser(x, _times(grid[i], x))
        r = rewards(reward, x0).reshape(b, k)
        logw = logw + temperature * (r - r_prev)
        w = torch.softmax(logw, dim=1)
        ess = 1.0 / w.square().sum(1)
        if i < steps - 1 and bool((ess < ess_threshold * k).any()):
            idx = torch.multinomial(w.float(), k, replacement=True, generator=_first(generator))  # (b, k)
            resample = (ess < ess_threshold * k)[:, None]
            idx = torch.where(resample, idx, torch.arange(k).expand(b, k))
            flat = (idx + torch.arange(b)[:, None] * k).reshape(-1)
            fd = flat.to(x.device)
            x, x0, eps, r = x[fd], x0[fd], eps[fd], r.reshape(-1)[flat].reshape(b, k)
            logw = torch.where(resample, torch.zeros_like(logw), logw)
        r_prev = r
        x = ancestral_step(process, x, grid[i], grid[i + 1], x0.to(x.dtype), eps.to(x.dtype), yk, eta, generator)
    return _best(x, reward, b, k, float(steps * k))


def beam_search(
    denoiser: Denoiser,
    process: GaussianProcess,
    reward: Reward,
    shape: tuple[int, ...],
    beams: int,
    children: int,
    *,
    steps: int,
    eta: float = 1.0,
    schedule: GridSpec = "uniform",
    y: Tensor | None = None,
    generator: Generators = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> SearchResult:
    """Beam search over intermediate states: each of ``beams`` states branches into ``children``; the best
    ``beams`` children by look-ahead reward ``r(x0_hat)`` survive (search over paths, Ma et al. 2025, Sec. 3.2).

    NFE per output: ``beams`` at the prior plus ``beams * children`` at each later evaluated time.
    """
    b, k, m = shape[0], beams, children
    grid = time_grid(process, steps, schedule)
    yk, ykm = _repeat(y, k, b), _repeat(y, k * m, b)
    x = _prior(process, (b * k, *shape[1:]), yk, generator, dtype, device)
    x0, eps = denoiser(x, _times(grid[0], x))
    nfe = k
    for i in range(steps):
        rep = (lambda v: v.repeat_interleave(m, 0)) if m > 1 else (lambda v: v)
        kids = ancestral_step(process, rep(x), grid[i], grid[i + 1], rep(x0).to(x.dtype), rep(eps).to(x.dtype), ykm,
                              eta, generator)  # fmt: skip
        if i == steps - 1:
            x = kids
            break
        kx0, keps = denoiser(kids, _times(grid[i + 1], kids))
        nfe += k * m
        r = rewards(reward, kx0).reshape(b, k * m)
        top = r.topk(k, dim=1).indices
        flat = (top + torch.arange(b)[:, None] * (k * m)).reshape(-1).to(kids.device)
        x, x0, eps = kids[flat], kx0[flat], keps[flat]
    if m > 1:  # the last branching produced k * m finals per output
        return _best(x, reward, b, k * m, float(nfe))
    return _best(x, reward, b, k, float(nfe))


def rollover_budget_forcing(
    denoiser: Denoiser,
    process: GaussianProcess,
    reward: Reward,
    shape: tuple[int, ...],
    budget: int,
    *,
    steps: int,
    eta: float = 1.0,
    schedule: GridSpec = "uniform",
    y: Tensor | None = None,
    generator: Generators = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> SearchResult:
    """Rollover Budget Forcing (Kim et al. 2025, Sec. 5): at most ``budget`` denoiser evaluations per output.

    One evaluation at the prior; each of the ``steps - 1`` intermediate times gets an equal share of
    the rest, plus whatever earlier steps left unused. At a step, children are drawn one at a time
    (one evaluation each, for the look-ahead reward) until one beats the current reward (accepted
    at once; the unused share rolls over) or the share is spent (the best child is taken). A step
    is never given more than the budget minus one evaluation reserved for each later step, so the
    total never exceeds ``budget``.
    """
    if steps < 1 or budget < steps:
        raise ValueError(f"rollover_budget_forcing: need steps >= 1 and budget >= steps, got {budget}, {steps}")
    grid = time_grid(process, steps, schedule)
    out, rs, used = [], [], []
    x_all = _prior(process, shape, y, generator, dtype, device)
    for j in range(shape[0]):
        yj = y[j : j + 1] if (y is not None and y.ndim > 0 and y.shape[0] == shape[0]) else y
        x, r_j, nfe = _rbf_chain(denoiser, process, reward, x_all[j : j + 1], yj, grid, budget, eta, generator)
        out.append(x)
        rs.append(r_j)
        used.append(nfe)
    if max(used) > budget:  # the accounting above makes this impossible; fail loudly if it ever breaks
        raise RuntimeError(f"rollover_budget_forcing spent {max(used)} > budget {budget}")
    return SearchResult(x=torch.cat(out), reward=torch.cat(rs), nfe=float(sum(used)) / len(used))


def _rbf_chain(
    denoiser: Denoiser,
    process: GaussianProcess,
    reward: Reward,
    x: Tensor,
    y: Tensor | None,
    grid: Tensor,
    budget: int,
    eta: float,
    generator: Generators,
) -> tuple[Tensor, Tensor, int]:
    steps = len(grid) - 1
    x0, eps = denoiser(x, _times(grid[0], x))
    nfe = 1
    r_cur = rewards(reward, x0)
    inner = steps - 1  # evaluated intermediate times
    share = (budget - 1) // inner if inner > 0 else 0
    carry = 0
    for i in range(inner):
        allowed = min(share + carry, budget - nfe - (inner - 1 - i))
        best: tuple[Tensor, Tensor, Tensor, Tensor] | None = None
        k = 0
        while k < allowed:
            kid = ancestral_step(process, x, grid[i], grid[i + 1], x0.to(x.dtype), eps.to(x.dtype), y, eta, generator)
            kx0, keps = denoiser(kid, _times(grid[i + 1], kid))
            k += 1
            r = rewards(reward, kx0)
            if best is None or bool(r > best[3]):
                best = (kid, kx0, keps, r)
            if bool(r > r_cur):
                break
        nfe += k
        carry = allowed - k
        assert best is not None  # allowed >= 1 by the reservation above
        x, x0, eps, r_cur = best
    x = ancestral_step(process, x, grid[-2], grid[-1], x0.to(x.dtype), eps.to(x.dtype), y, eta, generator)
    return x, rewards(reward, x), nfe


def _best(x: Tensor, reward: Reward, b: int, k: int, nfe: float) -> SearchResult:
    r = rewards(reward, x).reshape(b, k)
    best = r.argmax(1).to(x.device)
    chosen = x.reshape(b, k, *x.shape[1:])[torch.arange(b, device=x.device), best]
    return SearchResult(x=chosen, reward=r.max(1).values, nfe=nfe)


def _first(generator: Generators) -> torch.Generator | None:
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    raise ValueError("particle search: pass one torch.Generator (per-sample generators do not apply to populations)")
