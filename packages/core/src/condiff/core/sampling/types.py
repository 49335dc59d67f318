"""Types shared by every sampler: the result and the method signature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.noise import Generators

State = Tensor | tuple[Tensor, ...]
StepCallback = Callable[[int, Any, Any], None]


@dataclass
class Samples:
    """Result of :func:`~condiff.core.sampling.sample`: final state, network evaluations used, path on request."""

    x: Any
    nfe: int
    trajectory: list[Any] = field(default_factory=list)


class SamplingMethod(Protocol):
    """Signature of every method in :data:`condiff.core.sampling.METHODS`.

    ``grid`` is the decreasing float64 time grid (``grid[0]`` the start, ``grid[-1]`` the end);
    ``x`` the state at ``grid[0]``; ``callback(i, x, x0_hat)`` runs after step ``i``. Method
    options (``order``, ``eta``, ...) arrive as keyword arguments.
    """

    def __call__(
        self,
        denoiser: Denoiser,
        process: GaussianProcess,
        x: Any,
        grid: Tensor,
        y: Any = None,
        *,
        generator: Generators = None,
        callback: StepCallback | None = None,
        return_trajectory: bool = False,
        **options: Any,
    ) -> Samples: ...
