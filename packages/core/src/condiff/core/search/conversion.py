"""Path conversion: run a denoiser trained on one Gaussian path with the samplers of another.

Two paths ``x = a x0 + s eps`` and ``x' = a' x0 + s' eps`` (no ``y`` term) with equal log-SNR
``lambda = log(a/s)`` at ``t`` and ``t'`` describe the same noisy sample up to the scale
``x' = (a'(t') / a(t)) x`` (Kingma et al. 2021, Sec. 4: the model depends on the path only
through the SNR). So a flow/interpolant model (``a = 1 - t``, ``s = t``) becomes a VP model
exactly (Kim et al. 2025, Sec. 4.1, "VP-SDE conversion"): its ``(x0_hat, eps_hat)`` are unchanged,
only the query point is rescaled, and every VP sampler, the stochastic ones included, applies.
"""

from __future__ import annotations

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess, expand_like
from condiff.core.sampling.denoiser import Denoiser


class ConvertedDenoiser:
    """The denoiser of ``source`` seen on the path ``target`` (module docstring).

    Args:
        denoiser: ``(x, t) -> (x0_hat, eps_hat)`` trained on ``source``.
        source: the path it was trained on (``b = 0``).
        target: the path to sample on (``b = 0``); its log-SNR range must lie in the source's.
    """

    def __init__(self, denoiser: Denoiser, source: GaussianProcess, target: GaussianProcess) -> None:
        self.denoiser, self.source, self.target = denoiser, source, target

    def source_time(self, t: Tensor) -> Tensor:
        """``t_src = lambda_src^{-1}(lambda_tgt(t))``, clamped to the source's ``[t_min, T]``."""
        lam = self.target.log_snr(torch.as_tensor(t, dtype=torch.float64))
        return self.source.t_from_log_snr(lam).clamp(self.source.t_min, self.source.T)

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        t64 = torch.as_tensor(t, dtype=torch.float64)
        ts = self.source_time(t64)
        a_src = self.source.coefficients64(ts).a
        a_tgt = self.target.coefficients64(t64).a
        scale = expand_like(a_src / a_tgt, x)
        return self.denoiser(x * scale, ts.to(t.dtype) if isinstance(t, Tensor) else ts)
