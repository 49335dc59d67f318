"""DPM-Solver-v3 with empirical model statistics."""

from __future__ import annotations

from collections.abc import Callable

from condiff.core.sampling.types import Samples

METHODS: dict[str, Callable[..., Samples]] = {}
