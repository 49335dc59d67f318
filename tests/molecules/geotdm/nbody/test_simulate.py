"""The N-body simulator conserves energy, is deterministic in its seed and E(3)-equivariant."""

from __future__ import annotations

import pytest
import torch

from condiff.core.errors import ConfigError
from condiff.molecules.geotdm.nbody import (
    NBodyConfig,
    NBodyState,
    forces,
    sample_initial_state,
    simulate,
    simulate_systems,
    total_energy,
)


def _energies(config: NBodyConfig, seed: int = 0) -> torch.Tensor:
    state = sample_initial_state(8, config, torch.Generator().manual_seed(seed))
    traj = simulate(state, config)
    return torch.stack(
        [
            total_energy(traj.positions[:, :, k], traj.velocities[:, :, k], state, config)
            for k in range(config.num_frames)
        ],
        dim=1,
    )


def test_springs_conserve_energy_at_small_dt() -> None:
    config = NBodyConfig(interaction="springs", dt=0.001, sample_every=100, num_frames=20, strength=0.1)
    energy = _energies(config)
    drift = ((energy - energy[:, :1]).abs() / energy[:, :1].abs()).max()
    assert drift < 1e-6, f"relative energy drift {drift:.2e}"


def test_unclipped_charged_particles_conserve_energy_at_small_dt() -> None:
    config = NBodyConfig(
        interaction="charged", dt=0.0005, sample_every=100, num_frames=10, max_force=None, softening=0.1
    )
    energy = _energies(config, seed=3)
    drift = (energy - energy[:, :1]).abs().max() / energy[:, :1].abs().max()
    assert drift < 1e-3, f"relative energy drift {drift:.2e}"


def test_energy_error_shrinks_with_dt_second_order() -> None:
    """Velocity Verlet is second order: halving dt cuts the energy error about fourfold."""
    base = dict(interaction="gravity", num_frames=2, max_force=None, softening=0.5)
    coarse = _energies(NBodyConfig(dt=0.02, sample_every=50, **base))
    fine = _energies(NBodyConfig(dt=0.01, sample_every=100, **base))
    err_coarse = (coarse[:, 1] - coarse[:, 0]).abs().max()
    err_fine = (fine[:, 1] - fine[:, 0]).abs().max()
    assert 2.5 < err_coarse / err_fine < 6.0, f"error ratio {err_coarse / err_fine:.2f}"


def test_charged_forces_repel_like_and_attract_opposite_charges() -> None:
    config = NBodyConfig(num_particles=2, max_force=None)
    positions = torch.tensor([[[0.0, 0, 0], [2.0, 0, 0]]], dtype=torch.float64)
    like = torch.tensor([[[0.0, 1.0], [1.0, 0.0]]], dtype=torch.float64)
    f_like = forces(positions, like, config)
    torch.testing.assert_close(f_like[0, 0], torch.tensor([-0.25, 0, 0], dtype=torch.float64))  # c q q / r^2
    torch.testing.assert_close(forces(positions, -like, config), -f_like)


def test_simulation_is_deterministic_in_the_seed() -> None:
    config = NBodyConfig(num_frames=5, sample_every=20)
    a, b = simulate_systems(3, config, seed=7), simulate_systems(3, config, seed=7)
    assert torch.equal(a.positions, b.positions)
    assert torch.equal(a.charges, b.charges)
    c = simulate_systems(3, config, seed=8)
    assert not torch.equal(a.positions, c.positions)


@pytest.mark.parametrize("interaction", ["charged", "springs", "gravity"])
@pytest.mark.parametrize("reflect", [False, True])
def test_simulator_is_e3_equivariant(interaction: str, reflect: bool, orthogonal) -> None:
    config = NBodyConfig(interaction=interaction, num_frames=6, sample_every=50)  # type: ignore[arg-type]
    state = sample_initial_state(4, config, torch.Generator().manual_seed(1))
    q = orthogonal(2, reflect)
    shift = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)
    moved = NBodyState(state.positions @ q.T + shift, state.velocities @ q.T, state.charges, state.couplings)
    traj, traj_moved = simulate(state, config), simulate(moved, config)
    torch.testing.assert_close(traj_moved.positions, traj.positions @ q.T + shift, atol=1e-8, rtol=1e-8)
    torch.testing.assert_close(traj_moved.velocities, traj.velocities @ q.T, atol=1e-8, rtol=1e-8)


def test_trajectory_shapes_and_sampling_interval() -> None:
    config = NBodyConfig(num_particles=4, num_frames=7, sample_every=30)
    traj = simulate_systems(2, config, seed=0)
    assert traj.positions.shape == traj.velocities.shape == (2, 4, 7, 3)
    assert traj.charges.shape == (2, 4)
    assert set(traj.charges.unique().tolist()) <= {-1.0, 1.0}
    # Frame k is the state after k * sample_every steps: sampling every 10 steps thrice lands on the same state.
    fine = simulate(
        NBodyState(traj.positions[:, :, 0], traj.velocities[:, :, 0], traj.charges, traj.couplings),
        NBodyConfig(num_particles=4, num_frames=4, sample_every=10),
    )
    torch.testing.assert_close(fine.positions[:, :, 3], traj.positions[:, :, 1])


@pytest.mark.parametrize(
    ("key", "value"),
    [("interaction", "magnetic"), ("num_particles", 1), ("dt", 0.0), ("spring_prob", 1.5), ("num_frames", 0)],
)
def test_bad_config_values_name_the_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=key):
        NBodyConfig(**{key: value})  # type: ignore[arg-type]
