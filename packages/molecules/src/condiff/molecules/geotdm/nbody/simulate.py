"""Vectorised N-body simulator: charged particles (Kipf et al. 2018; EGNN, Satorras et al. 2021), springs, gravity.

All systems of a batch are integrated at once with velocity Verlet (kick-drift-kick), in float64. The charged
setup follows NRI/EGNN's ``ChargedParticlesSim`` (charges +-1 with probability 1/2, Coulomb forces
``F_i = c * sum_j q_i q_j (x_i - x_j) / |x_i - x_j|^3``, initial velocities of norm ``vel_norm``, 5000 steps of
``dt = 0.001`` kept every 100th), without the box. NRI clips each force component to ``0.1 / dt``; here the
force *norm* is clipped to that value, which bounds close encounters the same way but keeps the simulator
E(3)-equivariant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from condiff.core.errors import ConfigError

Interaction = Literal["charged", "springs", "gravity"]


@dataclass(frozen=True)
class NBodyConfig:
    """Physical and sampling settings of a simulation (defaults: the GeoTDM/EGNN charged-particle setup)."""

    interaction: Interaction = "charged"
    num_particles: int = 5
    dt: float = 0.001  # integrator step
    sample_every: int = 100  # integrator steps between kept frames
    num_frames: int = 50  # frames kept, the first one being the initial condition
    strength: float = 1.0  # Coulomb constant c, spring constant k or gravitational constant G
    loc_std: float = 1.0  # std of the initial positions
    vel_norm: float = 0.5  # norm of every initial velocity
    spring_prob: float = 0.5  # springs: probability that a pair is connected
    softening: float = 0.0  # added as eps^2 to squared distances (charged, gravity); 0 = exact 1/r^2 forces
    max_force: float | None = 100.0  # clip of each particle's force norm (NRI: 0.1 / dt); None = no clip

    def __post_init__(self) -> None:
        if self.interaction not in ("charged", "springs", "gravity"):
            raise ConfigError(f"NBodyConfig.interaction: expected charged|springs|gravity, got {self.interaction!r}")
        for key in ("num_particles", "sample_every", "num_frames"):
            if getattr(self, key) < 1:
                raise ConfigError(f"NBodyConfig.{key}: must be >= 1, got {getattr(self, key)}")
        if self.num_particles < 2:
            raise ConfigError(f"NBodyConfig.num_particles: an interacting system needs >= 2, got {self.num_particles}")
        for key in ("dt", "strength", "loc_std"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"NBodyConfig.{key}: must be > 0, got {getattr(self, key)}")
        if not 0.0 <= self.spring_prob <= 1.0:
            raise ConfigError(f"NBodyConfig.spring_prob: must lie in [0, 1], got {self.spring_prob}")


@dataclass(frozen=True)
class NBodyState:
    """Initial conditions and constants of ``B`` systems of ``N`` particles."""

    positions: Tensor  # (B, N, 3)
    velocities: Tensor  # (B, N, 3)
    charges: Tensor  # (B, N): charges (charged), masses (gravity), ones (springs)
    couplings: Tensor  # (B, N, N) symmetric, zero diagonal: q_i q_j, spring adjacency or m_i m_j


@dataclass(frozen=True)
class NBodyTrajectories:
    """Simulated trajectories.

    ``positions, velocities: (B, N, T, 3)``, ``charges: (B, N)``, ``couplings: (B, N, N)``.
    """

    positions: Tensor
    velocities: Tensor
    charges: Tensor
    couplings: Tensor


def sample_initial_state(batch: int, config: NBodyConfig, generator: torch.Generator) -> NBodyState:
    """Draw ``batch`` systems: positions ``N(0, loc_std^2)``, random directions with speed ``vel_norm``, constants."""
    n = config.num_particles
    f64 = torch.float64
    positions = config.loc_std * torch.randn(batch, n, 3, generator=generator, dtype=f64)
    velocities = torch.randn(batch, n, 3, generator=generator, dtype=f64)
    velocities = config.vel_norm * velocities / velocities.norm(dim=-1, keepdim=True)
    off_diagonal = 1.0 - torch.eye(n, dtype=torch.float64)
    if config.interaction == "charged":
        charges = torch.where(torch.rand(batch, n, generator=generator, dtype=f64) < 0.5, 1.0, -1.0).to(torch.float64)
        couplings = charges[:, :, None] * charges[:, None, :] * off_diagonal
    elif config.interaction == "springs":
        charges = torch.ones(batch, n, dtype=torch.float64)
        upper = (torch.rand(batch, n, n, generator=generator, dtype=f64) < config.spring_prob).to(torch.float64).triu(1)
        couplings = upper + upper.transpose(1, 2)
    else:
        charges = torch.ones(batch, n, dtype=torch.float64)  # unit masses
        couplings = charges[:, :, None] * charges[:, None, :] * off_diagonal
    return NBodyState(positions, velocities, charges, couplings)


def forces(positions: Tensor, couplings: Tensor, config: NBodyConfig) -> Tensor:
    """Forces on every particle, ``positions: (B, N, 3)``, ``couplings: (B, N, N)`` -> ``(B, N, 3)``.

    charged: ``F_i = c sum_j q_i q_j d_ij / r_ij^3`` (like charges repel); springs: ``F_i = -k sum_j A_ij d_ij``
    (Hooke, rest length 0); gravity: ``F_i = -G sum_j m_i m_j d_ij / r_ij^3``; ``d_ij = x_i - x_j``.
    """
    diff = positions[:, :, None, :] - positions[:, None, :, :]  # (B, N, N, 3): x_i - x_j
    if config.interaction == "springs":
        f = -config.strength * (couplings[..., None] * diff).sum(dim=2)
    else:
        r2 = (diff**2).sum(-1) + config.softening**2
        # The diagonal has r = 0 and coupling 0; a placeholder distance keeps 0 * inf out of the sum.
        r2 = torch.where(couplings == 0, torch.ones_like(r2), r2)
        sign = 1.0 if config.interaction == "charged" else -1.0
        f = sign * config.strength * ((couplings / r2**1.5)[..., None] * diff).sum(dim=2)
    if config.max_force is not None:
        norm = f.norm(dim=-1, keepdim=True)
        f = f * torch.clamp(config.max_force / norm.clamp_min(1e-300), max=1.0)
    return f


def potential_energy(positions: Tensor, couplings: Tensor, config: NBodyConfig) -> Tensor:
    """Potential energy per system ``(B,)``: ``sum_{i<j}`` of ``k r^2 / 2`` (springs), ``c q_i q_j / r`` (charged),
    ``-G m_i m_j / r`` (gravity); exact for the unclipped forces (``max_force=None``)."""
    diff = positions[:, :, None, :] - positions[:, None, :, :]
    r2 = (diff**2).sum(-1)
    if config.interaction == "springs":
        pair = 0.5 * config.strength * couplings * r2
    else:
        r = torch.where(couplings == 0, torch.ones_like(r2), r2 + config.softening**2).sqrt()
        sign = 1.0 if config.interaction == "charged" else -1.0
        pair = sign * config.strength * couplings / r
    return 0.5 * pair.sum(dim=(1, 2))  # each pair counted twice


def total_energy(positions: Tensor, velocities: Tensor, state: NBodyState, config: NBodyConfig) -> Tensor:
    """Kinetic plus potential energy per system; ``positions, velocities: (B, N, 3)`` -> ``(B,)``."""
    masses = state.charges if config.interaction == "gravity" else torch.ones_like(state.charges)
    kinetic = 0.5 * (masses[..., None] * velocities**2).sum(dim=(1, 2))
    return kinetic + potential_energy(positions, state.couplings, config)


def simulate(state: NBodyState, config: NBodyConfig) -> NBodyTrajectories:
    """Integrate ``state`` with velocity Verlet for ``(num_frames - 1) * sample_every`` steps of ``dt``.

    Returns every ``sample_every``-th state (frame 0 = the initial condition), in float64.
    """
    if state.positions.shape[-2:] != (config.num_particles, 3) or state.positions.shape != state.velocities.shape:
        raise ValueError(
            f"simulate: positions and velocities must both be (B, {config.num_particles}, 3), "
            f"got {tuple(state.positions.shape)} and {tuple(state.velocities.shape)}"
        )
    masses = (state.charges if config.interaction == "gravity" else torch.ones_like(state.charges))[..., None]
    x, v = state.positions.to(torch.float64), state.velocities.to(torch.float64)
    couplings = state.couplings.to(torch.float64)
    a = forces(x, couplings, config) / masses
    xs, vs = [x], [v]
    for _ in range(config.num_frames - 1):
        for _ in range(config.sample_every):
            v_half = v + 0.5 * config.dt * a
            x = x + config.dt * v_half
            a = forces(x, couplings, config) / masses
            v = v_half + 0.5 * config.dt * a
        xs.append(x)
        vs.append(v)
    return NBodyTrajectories(torch.stack(xs, dim=2), torch.stack(vs, dim=2), state.charges, state.couplings)


def simulate_systems(num_systems: int, config: NBodyConfig, seed: int) -> NBodyTrajectories:
    """Draw ``num_systems`` initial conditions from ``seed`` and simulate them (deterministic in ``seed``)."""
    if num_systems < 1:
        raise ConfigError(f"simulate_systems: num_systems must be >= 1, got {num_systems}")
    generator = torch.Generator().manual_seed(seed)
    return simulate(sample_initial_state(num_systems, config, generator), config)
