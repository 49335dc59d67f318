"""Heavy-ball and generalized heavy-ball (GHVB) momentum variants of multistep solvers."""

from __future__ import annotations

from collections.abc import Callable

from condiff.core.sampling.types import Samples

METHODS: dict[str, Callable[..., Samples]] = {}
