"""RED-Diff (Mardani et al. 2024, "A variational perspective on solving inverse problems with diffusion models").

The clean estimate ``mu`` is optimised (Adam) over a descending time grid ``t_1 > ... > t_N``;
at ``t_i`` one noise draw ``eps`` gives ``x_t = a mu + b y_p + s eps`` and the loss (their eq. 9
and Algorithm 1)

    l(mu) = ||y - A mu||^2 / (2 sigma^2) + lam * w(t) * <sg[eps_hat(x_t, t) - eps], mu>

whose gradient in ``mu`` is the data-fit gradient plus the denoising regulariser
``lam w(t) (eps_hat - eps)`` (score distillation; no back-propagation through the denoiser).
The paper weights by the inverse square-root SNR, ``w(t) = s / a`` (``weight="inverse_sqrt_snr"``).
One denoiser evaluation per step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from condiff.core.guidance.common import coefficients
from condiff.core.inverse.operators import LinearOperator
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.grids import time_grid
from condiff.core.sampling.noise import Generators, randn

WEIGHTS = ("inverse_sqrt_snr", "constant")


@dataclass
class RedDiffResult:
    """The final estimate ``x`` and the number of denoiser evaluations ``nfe``."""

    x: Tensor
    nfe: int


def red_diff(
    denoiser: Denoiser,
    process: GaussianProcess,
    operator: LinearOperator,
    measurement: Tensor,
    *,
    steps: int,
    sigma: float = 1.0,
    lam: float = 0.25,
    lr: float = 0.1,
    betas: tuple[float, float] = (0.9, 0.99),
    weight: str | Callable[[Tensor], Tensor] = "inverse_sqrt_snr",
    schedule: str | Sequence[float] | Tensor = "uniform",
    t_start: float | None = None,
    t_end: float | None = None,
    init: Tensor | None = None,
    y: Tensor | None = None,
    generator: Generators = None,
) -> RedDiffResult:
    """Solve ``y = A x0 + n`` by RED-Diff (module docstring) with ``steps`` denoiser calls.

    Args:
        denoiser: the unconditional denoiser.
        process: its path.
        operator: ``A``.
        measurement: ``y: (B, ...)``.
        steps: number of times (= NFE); the grid runs from ``t_start`` (default ``T``) down to ``t_end``.
        sigma: measurement noise level ``sigma`` of the data-fit term.
        lam: regularisation weight ``lambda`` (paper: 0.25).
        lr: Adam learning rate (paper: 0.1 on images in ``[-1, 1]``).
        weight: ``"inverse_sqrt_snr"`` (``s / a``), ``"constant"``, or ``t -> w(t)``.
        schedule: time grid name or times (the optimisation visits ``grid[:-1]``).
        init: starting ``mu``; default ``A^+ y``.
        y: the process condition, if any.
        generator: RNG of the noise draws.
    """
    if steps < 1:
        raise ValueError(f"red_diff: steps must be >= 1, got {steps}")
    if isinstance(weight, str) and weight not in WEIGHTS:
        raise ValueError(f"red_diff: unknown weight {weight!r}; expected one of {WEIGHTS} or a callable")
    grid = time_grid(process, steps, schedule, t_start, t_end)[:-1]
    mu = (operator.pinv(measurement) if init is None else init).detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([mu], lr=lr, betas=betas)
    for t in grid:
        tb = t.expand(mu.shape[0])
        a, b, s = coefficients(process, tb, mu)
        eps = randn(mu.shape, generator, device=mu.device, dtype=mu.dtype)
        with torch.no_grad():
            x_t = a * mu + s * eps + (0.0 if y is None else b * y)
            _, eps_hat = denoiser(x_t, tb)
            w = _weight(weight, tb, a, s)
        a_mu = operator(mu)
        r = measurement.to(device=a_mu.device, dtype=a_mu.dtype) - a_mu
        fit = 0.5 * ((r.conj() * r).real if r.is_complex() else r * r).sum() / sigma**2
        reg = lam * (w * (eps_hat.to(mu.dtype) - eps) * mu).sum()
        opt.zero_grad()
        (fit + reg).backward()
        opt.step()
    return RedDiffResult(x=mu.detach(), nfe=len(grid))


def _weight(weight: str | Callable[[Tensor], Tensor], t: Tensor, a: Tensor, s: Tensor) -> Tensor:
    if callable(weight):
        return torch.as_tensor(weight(t)).to(a.dtype).reshape(a.shape)
    return s / a if weight == "inverse_sqrt_snr" else torch.ones_like(a)
