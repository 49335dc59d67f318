"""Samplers that wrap another method (the Time-Shift sampler)."""

from __future__ import annotations

from collections.abc import Callable

from condiff.core.sampling.types import Samples

METHODS: dict[str, Callable[..., Samples]] = {}
