"""Reconstruction with an *unconditional* prior: the core's RED-Diff, DPS and data consistency over the
masked-Fourier (accelerated MRI), SENSE (multi-coil MRI) and Radon (sparse-view CT) operators.

Measurements are taken of images in ``[0, 1]``: ``y = A u``. The prior works on ``x = 2 u - 1``, so the
measurement it must explain is ``y_x = A x = 2 y - A 1`` (``A`` linear).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from condiff.core.inverse import DPS, DataConsistency, LinearOperator, MaskedFourier, Radon, red_diff
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling import ModelDenoiser, sample
from condiff.medical.multicoil import SenseOperator

METHODS = ("dc", "dps", "red-diff")


def kspace_operator(mask: Tensor) -> MaskedFourier:
    """``A u = m * FFT2(u)`` (orthonormal, uncentred) for real images, ``mask: (W,)`` columns or ``(B, 1, 1, W)``."""
    return MaskedFourier(mask.to(torch.float64), complex_input=False)


def sense_operator(maps: Tensor, mask: Tensor) -> SenseOperator:
    """Multi-coil ``A u = m * FFT2(S_c u)`` for real images, ``maps: (C, H, W)`` complex coil sensitivities
    (:class:`~condiff.medical.multicoil.SenseOperator`)."""
    return SenseOperator(maps, mask, complex_input=False)


def radon_operator(size: int, angles: Tensor) -> Radon:
    """The parallel-beam Radon transform of ``size x size`` images at ``angles`` (degrees)."""
    return Radon(size, angles)


def model_measurement(measurement: Tensor, operator: LinearOperator, shape: tuple[int, ...]) -> Tensor:
    """``2 y - A 1``: the measurement of ``x = 2 u - 1`` given ``y = A u`` (module docstring)."""
    ones = torch.ones(shape, dtype=torch.float64, device=measurement.device)
    return 2 * measurement - operator(ones).to(measurement.dtype)


@torch.no_grad()
def _sample(
    den: Any, process: GaussianProcess, shape: tuple[int, ...], steps: int, generator: Any, **opts: Any
) -> Tensor:
    return sample(den, process, shape=shape, steps=steps, generator=generator, **opts).x


def reconstruct(
    network: nn.Module,
    process: GaussianProcess,
    parameterization: str,
    operator: LinearOperator,
    measurement: Tensor,
    shape: tuple[int, ...],
    method: str = "dc",
    steps: int = 50,
    sigma: float = 0.01,
    generator: torch.Generator | None = None,
    **options: Any,
) -> Tensor:
    """Reconstruct ``u`` in ``[0, 1]`` (shape ``shape``) from ``y = A u + n`` with an unconditional model.

    Methods:
        * ``dc``: data consistency, ``x0 <- x0 + A^+ (y - A x0)`` at every step (DDNM's range-null-space
          projection) and once more on the result, so that ``A u`` matches ``y``;
        * ``dps``: diffusion posterior sampling, the score plus ``-grad ||y - A x0_hat||^2 / (2 v_t)`` with PiGDM's
          ``v_t = sigma^2 + r_t^2`` (``prior_var`` 1; 0 for plain DPS), started at ``t_start = 0.9 T`` by default;
        * ``red-diff``: RED-Diff's variational optimisation (``lam``, ``lr`` in ``options``).

    ``options`` go to the solver (``method`` of :func:`~condiff.core.sampling.sample`, default DDIM; ``schedule``)
    or to RED-Diff.
    """
    if method not in METHODS:
        raise ValueError(f"reconstruct: unknown method {method!r}; expected one of {METHODS}")
    network.eval()
    y = model_measurement(measurement, operator, shape)
    den = ModelDenoiser(network, process, parameterization)
    opts = {"method": "ddim", "schedule": "uniform", **options}
    if method == "dc":
        dc = DataConsistency(den, process, operator, y)
        x = dc.project(_sample(dc, process, shape, steps, generator, **opts).double()).float()
    elif method == "dps":
        scale, prior_var = opts.pop("scale", 1.0), opts.pop("prior_var", 1.0)
        # The score shift moves x0 by (s^2 / a) d, which explodes where a(t) ~ 0 (the cosine VP has a(T) ~ 6e-17),
        # so guided sampling starts a little below T (a(0.9) = 0.16 for the cosine VP).
        opts.setdefault("t_start", process.t_min + 0.9 * (process.T - process.t_min))
        guided = DPS(den, process, operator, y, sigma=2 * sigma, prior_var=prior_var, scale=scale)
        x = sample(guided, process, shape=shape, steps=steps, generator=generator, **opts).x.detach()
    else:
        red = {k: opts.pop(k) for k in ("lam", "lr") if k in opts}
        init = operator.pinv(y).float()
        x = red_diff(den, process, operator, y, steps=steps, sigma=2 * sigma, init=init, generator=generator,
                     schedule=opts.get("schedule", "uniform"), **red).x  # fmt: skip
    # Not clipped: data consistency holds for the returned image itself (metrics clip on their own).
    return ((x + 1) / 2).float()
