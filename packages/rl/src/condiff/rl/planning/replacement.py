"""Denoiser wrapper that fixes the plan's first state to the current state (inpainting by replacement)."""

from __future__ import annotations

from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser


class ReplacementDenoiser:
    """``x0_hat[..., 0] <- s0`` at every solver step, ``eps_hat`` recomputed as ``(x - a x0_hat) / s``.

    Diffuser (Janner et al. 2022, Sec. 3.3) and Decision Diffuser condition on the current state by
    overwriting it in every intermediate trajectory; doing it on the data prediction keeps the pair
    ``(x0_hat, eps_hat)`` consistent with ``x`` for every solver of the core. ``s0: (B, D)``, ``x: (B, D, H)``.
    """

    def __init__(self, inner: Denoiser, process: GaussianProcess, s0: Tensor) -> None:
        self.inner, self.process, self.s0 = inner, process, s0

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        x0_hat, _ = self.inner(x, t)
        x0_hat = x0_hat.clone()
        x0_hat[:, :, 0] = self.s0.to(x0_hat.dtype)
        return x0_hat, self.process.eps_from_x0(x, t, x0_hat)
