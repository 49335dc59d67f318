"""Exponential-integrator ODE/SDE solvers over the general path: DPM-Solver, DPM-Solver++, UniPC, DEIS, MR Sampler.

Each family lives in its own module; this one registers them by name for
:func:`~condiff.core.sampling.sample` (derivation and defaults: ``docs/solvers.md``).
"""

from __future__ import annotations

from collections.abc import Callable

from condiff.core.sampling import adaptive, deis, dpm_solver, mrs, unipc
from condiff.core.sampling.types import Samples

METHODS: dict[str, Callable[..., Samples]] = {
    **dpm_solver.METHODS,
    **adaptive.METHODS,
    **unipc.METHODS,
    **deis.METHODS,
    **mrs.METHODS,
}
