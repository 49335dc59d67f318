"""SDE and ODE samplers: Euler-Maruyama, predictor-corrector, EDM Euler/Heun with churn, S4, interpolant samplers."""

from __future__ import annotations

from collections.abc import Callable

from condiff.core.sampling.types import Samples

METHODS: dict[str, Callable[..., Samples]] = {}
