"""Sampling GeoTDM trajectories with the core solvers (DDPM ancestral, DDIM, DPM-Solver++, UniPC, ...).

The reverse process of the projected, prior-shifted path is integrated by :func:`condiff.core.sampling.sample`
on the flat node layout ``(M, T, 3)``: noise and the noise prediction are projected by
:class:`~condiff.molecules.geotdm.process.TrajectoryProjection` (zero on given frames; zero centre of mass for
unconditional generation), so every solver keeps the given frames at their values and the state in the
translation-invariant subspace (and, for a planar model, in the x-y plane). The start is GeoTDM's prior
``x_T = mu + sigma_T P eps``. ``K`` samples per system run as one batch of ``K`` copies of every system.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from condiff.core.errors import ConfigError
from condiff.core.parameterization import to_x0_eps
from condiff.core.processes import GaussianProcess, ProjectedProcess
from condiff.core.sampling import sample
from condiff.molecules.geotdm.model import GeoTDMModel
from condiff.molecules.geotdm.process import keeps_given_frames, trajectory_process
from condiff.molecules.geotdm.systems import Systems


def system_times(t: Tensor, batch: Tensor, num_systems: int) -> Tensor:
    """Per-system times ``(B,)`` from a solver's time: a scalar or one value per node ``(M,)``."""
    if t.ndim == 0:
        return t.expand(num_systems)
    counts = torch.bincount(batch, minlength=num_systems)
    first = torch.cumsum(counts, 0) - counts
    return t[first]


class TrajectoryDenoiser:
    """Core denoiser ``(x, t) -> (x0_hat, eps_hat)`` of node trajectories, with the projected noise prediction."""

    def __init__(
        self,
        model: GeoTDMModel,
        process: ProjectedProcess,
        parameterization: str,
        systems: Systems,
        y: Tensor | None,
    ) -> None:
        self.model, self.process, self.parameterization = model, process, parameterization
        self.systems, self.y = systems, y
        self.num_systems = systems.num_systems

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        t_sys = system_times(t, self.systems.batch, self.num_systems)
        y = None if self.y is None else self.y.to(x.dtype)
        c = self.process.coefficients64(t.expand(x.shape[0]) if t.ndim == 0 else t)
        out = self.model.predict_eps(x, t_sys.to(x.dtype), self.systems.batch, c.a, c.s, y, **self.systems.graph)
        out = out.to(x.dtype)
        _, eps_hat = to_x0_eps(self.parameterization, out, x, t, self.process, y)
        eps_hat = self.process.project(eps_hat)
        return self.process.x0_from_eps(x, t, eps_hat, y), eps_hat


@dataclass
class TrajectorySamples:
    """``x: (K, M, T, 3)`` samples (given frames equal to the condition), the prior means ``mu`` and the NFE."""

    x: Tensor
    mu: Tensor | None
    nfe: int


def sample_trajectories(
    model: GeoTDMModel,
    process: GaussianProcess,
    systems: Systems,
    *,
    num_samples: int = 1,
    steps: int,
    method: str = "posterior",
    parameterization: str = "eps",
    schedule: str = "uniform",
    generator: torch.Generator | None = None,
    noise: Tensor | None = None,
    copy_given: bool = True,
    **options: Any,
) -> TrajectorySamples:
    """Draw ``num_samples`` trajectories per system of ``systems`` (their given frames are the condition).

    Args:
        model: the trained :class:`GeoTDMModel` (its mask says which frames are given).
        process: the process it was trained on (a :class:`PriorShiftedProcess` for conditional models).
        systems: the systems; generated frames of ``systems.x`` are ignored.
        num_samples: ``K``, samples per system.
        steps, method, schedule, options: as for :func:`condiff.core.sampling.sample` (``posterior`` on the
            ``uniform`` grid with the 1000 training steps is DDPM's ancestral sampler).
        generator: RNG of the prior and of the solver's noise.
        noise: ``(K, M, T, 3)`` standard normal noise of the prior instead of a draw from ``generator``.
        copy_given: write the exact given frames into the result (the solvers keep them up to rounding).
    """
    if model.conditional and not keeps_given_frames(process):
        raise ConfigError(
            "sample_trajectories: a conditional model needs a path with a + b = 1 (PriorShiftedProcess), "
            f"got {process!r}"
        )
    if model.sigma_data > 0 and parameterization != "eps":
        raise ConfigError("sample_trajectories: the preconditioning (sigma_data > 0) needs parameterization eps")
    if model.conditional:
        model.check_planar(systems.x[:, model.given.to(systems.x.device)], "sample_trajectories (given frames)")
    rep = systems.repeat(num_samples)
    proc = trajectory_process(
        process, rep.batch, model.generated.to(rep.x.device), center=not model.conditional, planar=model.planar
    )
    y = model.prior_mean(rep.x, rep.batch, **rep.graph)
    if noise is None:
        eps = torch.randn(rep.x.shape, generator=generator, device=rep.x.device, dtype=rep.x.dtype)
    else:
        if noise.shape != (num_samples, *systems.x.shape):
            raise ValueError(
                f"sample_trajectories: noise must be {(num_samples, *systems.x.shape)}, got {tuple(noise.shape)}"
            )
        eps = noise.reshape(rep.x.shape).to(rep.x)
    s_T = float(process.coefficients64(torch.tensor(process.T, dtype=torch.float64)).s)
    x_T = s_T * proc.project(eps)
    if y is not None:
        x_T = x_T + y
    den = TrajectoryDenoiser(model, proc, parameterization, rep, y)
    res = sample(
        den,
        proc,
        x_T=x_T,
        y=y,
        steps=steps,
        method=method,
        schedule=schedule,
        generator=generator,
        dtype=rep.x.dtype,
        **options,
    )
    x = res.x
    if model.conditional and copy_given:  # the solvers keep them up to rounding; copy the exact values
        x = torch.where(model.given.to(x.device)[None, :, None], rep.x.to(x.dtype), x)
    k = num_samples
    return TrajectorySamples(
        x=x.reshape(k, *systems.x.shape), mu=None if y is None else y.reshape(k, *systems.x.shape)[0], nfe=res.nfe
    )
