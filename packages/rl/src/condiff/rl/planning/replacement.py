"""Denoiser wrapper that fixes the plan's first state to the current state (inpainting by replacement)."""

from __future__ import annotations

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser


class ReplacementDenoiser:
    """``x0_hat[..., 0] <- s0`` at every solver step, ``eps_hat`` recomputed as ``(x - a x0_hat) / s``.

    Diffuser (Janner et al. 2022, Sec. 3.3) and Decision Diffuser condition on the current state by
    overwriting it in every intermediate trajectory; doing it on the data prediction keeps the pair
    ``(x0_hat, eps_hat)`` consistent with ``x`` for every solver of the core. ``s0: (B, D)``, ``x: (B, D, H)``.

    ``bounds = (lo, hi)``, each ``(D,)``, clip ``x0_hat`` per state dimension first (the normalised range
    of the training states; DDPM's and Diffuser's ``clip_denoised``). Near ``T`` a noise prediction
    turns into ``x0_hat = (x - s eps_hat) / a`` with ``a(T) = 0.008`` for the cosine schedule: a 1 %
    error of ``eps_hat`` becomes a ~1-unit error of ``x0_hat``, and unclipped, the first steps of a
    sampler from pure noise throw ``x`` far outside the data (docs/rl.md).
    """

    def __init__(
        self, inner: Denoiser, process: GaussianProcess, s0: Tensor, bounds: tuple[Tensor, Tensor] | None = None
    ) -> None:
        self.inner, self.process, self.s0, self.bounds = inner, process, s0, bounds

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        x0_hat, _ = self.inner(x, t)
        if self.bounds is not None:
            lo, hi = (b.to(x0_hat)[None, :, None] for b in self.bounds)
            x0_hat = torch.maximum(torch.minimum(x0_hat, hi), lo)
        else:
            x0_hat = x0_hat.clone()
        x0_hat[:, :, 0] = self.s0.to(x0_hat.dtype)
        return x0_hat, self.process.eps_from_x0(x, t, x0_hat)
