"""WDNO simulation: generate the trajectory ``u`` from the initial state and the (known) forcing.

The network models ``p(u, f | u0)`` over the packed coefficients of the whole trajectory
(:mod:`condiff.pde.datamodule`). For simulation the forcing is known, and since the transform acts on each
field separately, *all* of its coefficients are known: they are a channel mask of the state. They are
imposed by the core's replacement conditioning (:class:`condiff.core.guidance.ReplacementConditioning`,
Song et al. 2021 App. I.2) at every solver step, at the noise level of that step:

    x_in = m * (a(t) encode(f) + s(t) z) + (1 - m) * x,        x0_hat <- m * encode(f) + (1 - m) * x0_hat

so any core solver (DDPM ancestral, DDIM, DPM-Solver++, UniPC, ...) runs the conditional sampler; the final
state (at ``t_min``) gets the clean known coefficients (:func:`condiff.core.guidance.replace_known`). The
initial state enters as the network's clean condition channels (it is one row of the ``u`` image, not a set
of coefficients). The state ``u`` is read off the decoded sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from condiff.core.guidance import ReplacementConditioning, replace_known
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling import ModelDenoiser, sample
from condiff.pde.codec import PixelCodec
from condiff.pde.fields import FORCING, condition_fields, fourier_upsample, split_fields, trajectory_fields


@dataclass
class Simulation:
    """Result of :func:`simulate`: ``u: (B, T, N)``, ``forcing: (B, T - 1, N)`` decoded from the sample, NFE."""

    u: Tensor
    forcing: Tensor
    nfe: int


def forcing_mask(codec: PixelCodec) -> Tensor:
    """``(1, C', 1, 1)`` 0/1 mask of the state channels that carry the forcing."""
    mask = torch.zeros(1, codec.state_channels, 1, 1)
    mask[:, codec.field_channels(FORCING)] = 1.0
    return mask


@torch.no_grad()
def simulate(
    network: nn.Module,
    process: GaussianProcess,
    parameterization: str,
    codec: PixelCodec,
    cond_codec: PixelCodec,
    u0: Tensor,
    forcing: Tensor,
    *,
    coarse: Tensor | None = None,
    steps: int = 50,
    method: str = "ddim",
    generator: torch.Generator | None = None,
    **options: Any,
) -> Simulation:
    """Predict the trajectory from ``u0: (B, N)`` and ``forcing: (B, T - 1, N)``.

    Args:
        network: ``network(x, t, cond_image=...)`` trained on :class:`~condiff.pde.datamodule.BurgersDataModule`
            batches (without ``condition_on_final``).
        codec: the state codec the network was trained with (fitted scales).
        cond_codec: the condition codec.
        coarse: ``(B, T, N / 2)``, the trajectory at half the resolution, for a super-resolution model
            (``super_resolution=True``): the super-resolution stage, :func:`refine`.
        steps, method, options: passed to :func:`condiff.core.sampling.sample`.
        generator: RNG of the prior, the solver noise and the replacement noise (on the device of ``u0``,
            where the network must be too).

    Returns:
        The generated trajectory, the decoded forcing (equal to ``forcing`` up to rounding) and the NFE.
    """
    if forcing.dim() != 3 or forcing.shape[0] != u0.shape[0] or forcing.shape[-1] != u0.shape[-1]:
        raise ValueError(f"forcing must be (B, T - 1, N) for u0 {tuple(u0.shape)}, got {tuple(forcing.shape)}")
    frames, n = forcing.shape[1] + 1, u0.shape[-1]
    u0, forcing = u0.float(), forcing.float()
    up = None if coarse is None else fourier_upsample(coarse.float())
    cond = {"cond_image": cond_codec.encode(condition_fields(u0, frames, coarse=up))}
    known = codec.encode(trajectory_fields(u0.new_zeros(u0.shape[0], frames, n), forcing))
    denoiser = ModelDenoiser(network, process, parameterization, cond=cond)
    mask = forcing_mask(codec).to(u0.device)
    guided = ReplacementConditioning(denoiser, process, mask, known, generator=generator)
    result = sample(
        guided, process, shape=tuple(known.shape), steps=steps, method=method, generator=generator,
        device=u0.device, **options,
    )  # fmt: skip
    # The solver stops at t_min, where the known entries still carry s(t_min) of noise: overwrite them.
    x = replace_known(result.x, mask, known)
    u, f = split_fields(codec.decode(x, (frames, n)))
    return Simulation(u, f, result.nfe)


def refine(
    network: nn.Module,
    process: GaussianProcess,
    parameterization: str,
    codec: PixelCodec,
    cond_codec: PixelCodec,
    u_coarse: Tensor,
    u0: Tensor,
    forcing: Tensor,
    **sampler: Any,
) -> Simulation:
    """WDNO's super-resolution stage: the trajectory on the grid twice as fine as ``u_coarse: (B, T, N / 2)``.

    ``network`` models ``p(u, f | u0, u_coarse)`` on pairs of grids (``super_resolution=True``, trained on
    several grid pairs); ``u0: (B, N)`` and ``forcing: (B, T - 1, N)`` are given on the fine grid. Apply it
    repeatedly to go beyond the finest grid it was trained on.
    """
    if u_coarse.shape[-1] * 2 != u0.shape[-1]:
        raise ValueError(f"u_coarse has {u_coarse.shape[-1]} points; the fine grid of u0 needs {u0.shape[-1] // 2}")
    return simulate(network, process, parameterization, codec, cond_codec, u0, forcing, coarse=u_coarse, **sampler)
