"""Boundary-condition search for ODE samplers (Ma et al. 2023, "Solving diffusion ODEs with optimal
boundary conditions for better image super-resolution").

A conditional diffusion ODE is a deterministic map ``(x_T, condition) -> x0``; its quality
depends on the starting noise ``x_T``. Draw ``candidates`` noises (one shared by all images, the
paper's "boundary condition"), sample a small reference set of conditions with each, score the
results against their references with a metric, and keep the best noise. The chosen ``x_T``
is reused for new inputs with any ODE solver: :meth:`BoundarySearch.x_T` broadcasts it to a batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from condiff.core.sampling.noise import Generators, randn

SampleFn = Callable[[Tensor], Tensor]  # x_T: (B, ...) -> x0: (B, ...) for the reference conditions
Metric = Callable[[Tensor, Tensor], Tensor]  # (samples, references) -> (B,) higher is better


@dataclass
class BoundarySearch:
    """The best noise ``noise: (1, ...)``, every candidate's mean score ``scores: (N,)`` and the index chosen."""

    noise: Tensor
    scores: Tensor
    best: int

    def x_T(self, batch: int) -> Tensor:
        """The chosen noise repeated for a batch, ``(batch, ...)``."""
        return self.noise.expand(batch, *self.noise.shape[1:]).clone()


def search_boundary(
    sample_fn: SampleFn,
    references: Tensor,
    metric: Metric,
    candidates: int,
    *,
    generator: Generators = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    scale: float = 1.0,
) -> BoundarySearch:
    """Score ``candidates`` shared starting noises on a reference set and return the best.

    Args:
        sample_fn: maps a batch of starting states ``x_T: (R, ...)`` (one per reference) to samples;
            it closes over the reference conditions and the ODE solver, e.g.
            ``lambda x_T: sample(den, process, x_T, y=y_ref, steps=20, method="unipc").x``.
        references: ``(R, ...)`` ground truth of the reference set.
        metric: ``(samples, references) -> (R,)`` quality, higher is better (e.g. negative MSE, PSNR).
        candidates: number of noises to try (each costs one sampling run of the reference set).
        scale: prior standard deviation of ``x_T`` (``s(T)``; the noise is drawn as ``scale * N(0, I)``).
    """
    if candidates < 1:
        raise ValueError(f"search_boundary: candidates must be >= 1, got {candidates}")
    r = references.shape[0]
    noises = scale * randn((candidates, 1, *references.shape[1:]), generator, dtype=dtype, device=device)
    scores = []
    for noise in noises:
        out = sample_fn(noise.expand(r, *references.shape[1:]).clone())
        score = metric(out, references)
        if score.shape != (r,):
            raise ValueError(f"search_boundary: metric must return ({r},) scores, got {tuple(score.shape)}")
        scores.append(score.double().mean())
    s = torch.stack(scores)
    best = int(s.argmax())
    return BoundarySearch(noise=noises[best], scores=s, best=best)
