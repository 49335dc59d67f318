"""Built-in data of GeoTDM: simulated N-body systems (charged particles, springs, gravity) and their splits."""

from condiff.molecules.geotdm.nbody.files import SPLITS, load_nbody_npz, write_nbody_splits
from condiff.molecules.geotdm.nbody.simulate import (
    NBodyConfig,
    NBodyState,
    NBodyTrajectories,
    forces,
    potential_energy,
    sample_initial_state,
    simulate,
    simulate_systems,
    total_energy,
)

__all__ = [
    "SPLITS",
    "NBodyConfig",
    "NBodyState",
    "NBodyTrajectories",
    "forces",
    "load_nbody_npz",
    "potential_energy",
    "sample_initial_state",
    "simulate",
    "simulate_systems",
    "total_energy",
    "write_nbody_splits",
]
