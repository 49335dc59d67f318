"""DDIM (Song et al. 2021) generalised to every process ``x_t = a x0 + b y + s eps``."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.noise import Generators, randn
from condiff.core.sampling.types import Samples


def _ddim_step(
    process: GaussianProcess,
    x: Tensor,
    t: Tensor,
    t_next: Tensor,
    x0_hat: Tensor,
    eps_hat: Tensor,
    y: Tensor | None,
    eta: float,
    generator: Generators,
) -> Tensor:
    """One DDIM step generalised to ``x_t = a x0 + b y + s eps`` (Song et al. 2021, eq. 12).

    ``x' = a' x0_hat + b' y + sqrt(s'^2 - sigma^2) eps_hat + sigma z`` with
    ``sigma^2 = eta^2 s'^2 (1 - (a s' / (a' s))^2)``, the posterior variance of
    ``q(x_t' | x_t, x0)`` scaled by ``eta^2``. From a point mass (``s = 0``, the end of a bridge
    such as SB-VE) the step is ``a' x0_hat + b' y + eta s' z``: the Schrödinger-bridge sampler's
    first step (Jukić et al. 2024). ``eta = 0`` is the exponential-integrator
    (DPM-Solver-1) step ``x' = (s'/s) x + (a' - a s'/s) x0_hat + (b' - b s'/s) y``.
    """
    c, n = process.coefficients(t), process.coefficients(t_next)
    a1, b1, s1 = float(n.a), float(n.b), float(n.s)
    point_mass = float(c.s) == 0.0
    if point_mass:
        # A bridge's end (s(t) = a(t) = 0, x = b y): eps_hat = 0/0; use its mean 0, and a/s -> 0 in the variance.
        eps_hat = torch.zeros_like(eps_hat)
    if eta > 0 and s1 > 0:
        r = 0.0 if point_mass else float(c.a) * s1 / (a1 * float(c.s))
        var = eta**2 * s1**2 * max(0.0, 1.0 - r * r)
    else:
        var = 0.0
    out = a1 * x0_hat + (s1**2 - var) ** 0.5 * eps_hat
    if y is not None and b1 != 0.0:
        out = out + b1 * y
    if var > 0:
        z = randn(x.shape, generator, device=x.device, dtype=x.dtype)
        out = out + var**0.5 * process.project(z)
    return out


def ddim(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None = None,
    *,
    eta: float = 0.0,
    generator: Generators = None,
    callback: Callable[[int, Tensor, Tensor], None] | None = None,
    return_trajectory: bool = False,
) -> Samples:
    """DDIM (``eta = 0``: deterministic, first order) over the decreasing ``grid``."""
    traj = [x] if return_trajectory else []
    nfe = 0
    for i in range(len(grid) - 1):
        t, t_next = grid[i], grid[i + 1]
        x0_hat, eps_hat = denoiser(x, t.expand(x.shape[0]))  # float64 times; networks cast them
        nfe += 1
        x = _ddim_step(process, x, t, t_next, x0_hat.to(x.dtype), eps_hat.to(x.dtype), y, eta, generator)
        if callback is not None:
            callback(i, x, x0_hat)
        if return_trajectory:
            traj.append(x)
    return Samples(x=x, nfe=nfe, trajectory=traj)


def posterior(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None = None,
    *,
    generator: Generators = None,
    callback: Callable[[int, Tensor, Tensor], None] | None = None,
    return_trajectory: bool = False,
) -> Samples:
    """Ancestral sampling from the exact Gaussian posterior ``q(x_t' | x_t, x0 = x0_hat, y)``.

    IR-SDE's "analytic posterior" sampler (Luo et al. 2023, Sec. 3.3: the optimum reverse state
    plus the posterior noise) for any process: mean ``m' + (a/a') (s'^2/s^2) (x_t - m)``,
    variance ``s'^2 (1 - (a s'/(a' s))^2)``, which is exactly DDIM with ``eta = 1`` (Song et al.
    2021 show the same for DDPM).
    """
    return ddim(denoiser, process, x, grid, y, eta=1.0, generator=generator, callback=callback,
                return_trajectory=return_trajectory)  # fmt: skip


METHODS: dict[str, Callable[..., Samples]] = {"ddim": ddim, "posterior": posterior}
