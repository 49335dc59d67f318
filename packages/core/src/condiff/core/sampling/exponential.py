"""Exponential-integrator ODE solvers over the general path: DPM-Solver, DPM-Solver++, UniPC, DEIS, MR Sampler."""

from __future__ import annotations

from collections.abc import Callable

from condiff.core.sampling.types import Samples

METHODS: dict[str, Callable[..., Samples]] = {}
