"""WDNO on 2-D smoke: simulation (the force imposed) and control (the force generated), judged by the real solver.

The control goal of the paper's 2-D task: send the released smoke out through the target exit. With
``m_k`` the smoke mass that left through opening ``k`` by the final time and ``M`` the released mass,

    target fraction  F = m_target / M,     leakage  = sum_{k != target} m_k / M  (other exits and the inlet),
    J = (1 - F) + alpha * int_0^T int |f|^2 dx dt

``1 - F`` is the share of the smoke that failed to pass through the target exit (the paper's objective; it
also counts the smoke still in the box, which the leakage does not). :func:`evaluate_control` computes them
by running :func:`condiff.pde.smoke.simulate_smoke` with the force.

Guided sampling needs ``J`` of the *generated* trajectory, differentiably: the exit outflow is estimated from
the generated density and vertical velocity in the top row of cells under each exit (and the bottom row over the
inlet, with ``max(-vy, 0)``),

    m_k ~ sum_{frames t < T} dt_frame h sum_{i in exit k} rho_t[n-1, i] max(vy_t[n-1, i], 0)

and :class:`condiff.core.guidance.X0Guidance` steers the sampler with the gradient of the surrogate
``1 - m_target / M + lambda sum_{k != target} m_k / M + alpha cost`` on ``decode(x0_hat)`` (``lambda``, the
``leakage_weight``, 0 by default: the paper's objective).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from condiff.core.guidance import ReplacementConditioning, X0Guidance, replace_known
from condiff.core.guidance.schedules import Schedule
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling import ModelDenoiser, sample
from condiff.pde.codec import PixelCodec
from condiff.pde.smoke import SmokeBox, SmokeRun, simulate_smoke
from condiff.pde.smoke_fields import force_channels, smoke_fields, split_smoke_fields


def control_cost(force: Tensor, box: SmokeBox) -> Tensor:
    """``int_0^T int |f|^2 dx dt`` of ``force (B, nt, 2, n, n)``: ``(B,)``."""
    dt = box.t_final / force.shape[1]
    return force.square().sum((1, 2, 3, 4)) * box.h**2 * dt


@dataclass
class SmokeOutcome:
    """What a force does, by the real solver: ``run`` and ``(B,)`` target fraction, leakage, cost and ``J``."""

    run: SmokeRun
    target_fraction: Tensor
    leakage: Tensor
    cost: Tensor
    objective: Tensor


def evaluate_control(rho0: Tensor, force: Tensor, box: SmokeBox, alpha: float = 0.0) -> SmokeOutcome:
    """Run the solver from ``rho0 (B, n, n)`` with ``force (B, nt, 2, n, n)``; the metrics of the module docstring."""
    run = simulate_smoke(rho0.double(), force.double(), box)
    fractions = run.exit_fractions()
    target = fractions[:, box.target]
    leakage = fractions.sum(-1) - target
    cost = control_cost(force.double(), box)
    return SmokeOutcome(run, target, leakage, cost, 1 - target + alpha * cost)


def surrogate_exit_mass(density: Tensor, velocity: Tensor, box: SmokeBox) -> Tensor:
    """Differentiable estimate of the mass out of each exit and the inlet from a trajectory's frames (module
    docstring): ``density (B, T, n, n)``, ``velocity (B, T, 2, n, n)`` -> ``(B, K + 1)``."""
    dt = box.t_final / (density.shape[1] - 1)
    up = (density[:, :-1, -1] * velocity[:, :-1, 1, -1].clamp_min(0)).sum(1)  # (B, n) top row
    down = (density[:, :-1, 0] * (-velocity[:, :-1, 1, 0]).clamp_min(0)).sum(1)  # (B, n) bottom row
    exits = up @ box.exit_mask(density.device).to(density.dtype).T
    inlet = (down * box.inlet_mask(density.device).to(density.dtype)).sum(-1, keepdim=True)
    return dt * box.h * torch.cat([exits, inlet], dim=-1)


@dataclass
class SmokeSimulation:
    """Decoded sample: ``density (B, T, n, n)``, ``velocity (B, T, 2, n, n)``, ``force (B, T - 1, 2, n, n)``, NFE."""

    density: Tensor
    velocity: Tensor
    force: Tensor
    nfe: int


def _force_mask(codec: PixelCodec, frames: int) -> Tensor:
    mask = torch.zeros(1, codec.state_channels, 1, 1)
    for c in force_channels(frames):
        mask[:, codec.field_channels(c)] = 1.0
    return mask


def _state_shape(codec: PixelCodec, batch: int, n: int) -> tuple[int, ...]:
    return (batch, *codec.encode(torch.zeros(1, codec.channels, n, n)).shape[1:])


@torch.no_grad()
def simulate_smoke_wdno(
    network: nn.Module,
    process: GaussianProcess,
    parameterization: str,
    codec: PixelCodec,
    cond_codec: PixelCodec,
    rho0: Tensor,
    force: Tensor,
    *,
    steps: int = 50,
    method: str = "ddim",
    generator: torch.Generator | None = None,
    **options: Any,
) -> SmokeSimulation:
    """Generate the trajectory from ``rho0 (B, n, n)`` and the known ``force (B, nt, 2, n, n)``: the force's
    coefficients (a channel mask of the state) are imposed by the core's replacement conditioning at every
    step and overwritten clean at the end (as :func:`condiff.pde.simulate.simulate` does for 1-D)."""
    b, nt, _, n, _ = force.shape
    frames = nt + 1
    rho0, force = rho0.float(), force.float()
    cond = {"cond_image": cond_codec.encode(rho0[:, None])}
    zeros = rho0.new_zeros(b, frames, n, n)
    known = codec.encode(smoke_fields(zeros, zeros[:, :, None].expand(-1, -1, 2, -1, -1), force))
    mask = _force_mask(codec, frames).to(rho0.device)
    denoiser = ModelDenoiser(network, process, parameterization, cond=cond)
    guided = ReplacementConditioning(denoiser, process, mask, known, generator=generator)
    result = sample(
        guided, process, shape=tuple(known.shape), steps=steps, method=method, generator=generator,
        device=rho0.device, **options,
    )  # fmt: skip
    x = replace_known(result.x, mask, known)
    density, velocity, f = split_smoke_fields(codec.decode(x, (n, n)), frames)
    return SmokeSimulation(density, velocity, f, result.nfe)


@dataclass
class SmokeControl:
    """A generated force (``(B, nt, 2, n, n)``), the trajectory generated with it and the solver's verdict."""

    force: Tensor
    generated: SmokeSimulation
    outcome: SmokeOutcome


def control_smoke(
    network: nn.Module,
    process: GaussianProcess,
    parameterization: str,
    codec: PixelCodec,
    cond_codec: PixelCodec,
    rho0: Tensor,
    box: SmokeBox,
    *,
    alpha: float = 0.0,
    leakage_weight: float = 0.0,
    weight: Schedule = 1.0,
    steps: int = 50,
    method: str = "ddim",
    generator: torch.Generator | None = None,
    **options: Any,
) -> SmokeControl:
    """Generate a force for ``rho0 (B, n, n)`` by sampling ``p(trajectory, force | rho0)`` guided by the
    surrogate ``1 - m_target / M + leakage_weight sum_{k != target} m_k / M + alpha cost`` (module docstring),
    then judge it with the solver."""
    frames, n = box.nt + 1, box.n
    rho0 = rho0.float()
    released = rho0.sum((-1, -2)) * box.h**2
    cond = {"cond_image": cond_codec.encode(rho0[:, None])}
    denoiser = ModelDenoiser(network, process, parameterization, cond=cond)

    def cost(x0: Tensor) -> Tensor:
        density, velocity, force = split_smoke_fields(codec.decode(x0, (n, n)), frames)
        out = surrogate_exit_mass(density, velocity, box) / released.to(density).unsqueeze(-1)
        target = out[:, box.target]
        leak = out.sum(-1) - target
        return 1 - target + leakage_weight * leak + alpha * control_cost(force, box)

    guided = X0Guidance(denoiser, process, cost, weight=weight, through_denoiser=True)
    shape = _state_shape(codec, rho0.shape[0], n)
    result = sample(
        guided, process, shape=shape, steps=steps, method=method, generator=generator, device=rho0.device, **options
    )
    density, velocity, force = split_smoke_fields(codec.decode(result.x.detach(), (n, n)), frames)
    outcome = evaluate_control(rho0, force, box, alpha)
    return SmokeControl(force, SmokeSimulation(density, velocity, force, result.nfe), outcome)
