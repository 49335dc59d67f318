"""The solver entry point :func:`sample` and the methods it dispatches to by name."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling import ddim, dpm_solver_v3, exponential, momentum, stochastic, wrappers
from condiff.core.sampling.denoiser import Denoiser, ModelDenoiser
from condiff.core.sampling.grids import time_grid
from condiff.core.sampling.noise import Generators, randn
from condiff.core.sampling.types import Samples

# Every method module exports METHODS (name -> function with the SamplingMethod signature).
METHODS: dict[str, Callable[..., Samples]] = {}
for _module in (ddim, exponential, stochastic, momentum, wrappers, dpm_solver_v3):
    for _name, _fn in _module.METHODS.items():
        if _name in METHODS:
            raise RuntimeError(f"sampling method {_name!r} registered twice ({_module.__name__})")
        METHODS[_name] = _fn


def sample(
    denoiser: Denoiser,
    process: GaussianProcess,
    x_T: Tensor | tuple[Tensor, ...] | None = None,
    y: Tensor | None = None,
    *,
    steps: int,
    method: str = "unipc",
    schedule: str | Sequence[float] | Tensor = "quadratic",
    shape: tuple[int, ...] | None = None,
    t_start: float | None = None,
    t_end: float | None = None,
    rho: float = 7.0,
    guidance: float | None = None,
    generator: Generators = None,
    callback: Callable[[int, Tensor, Tensor], None] | None = None,
    return_trajectory: bool = False,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    progress: bool = False,
    **options: Any,
) -> Samples:
    """Integrate the reverse process of ``process`` from ``t_start`` (default ``T``) to ``t_end``.

    Args:
        denoiser: ``(x, t) -> (x0_hat, eps_hat)``, e.g. a :class:`ModelDenoiser`.
        process: the diffusion process the denoiser was trained on.
        x_T: starting state at ``t_start``; drawn from the prior (with ``y``) when ``None``.
        y: the condition the process drifts toward (``b(t) y``), or ``None``.
        steps: number of solver steps.
        method: solver name, one of :data:`METHODS`.
        schedule: a grid name of :data:`~condiff.core.sampling.grids.GRIDS` (``quadratic``, ``logsnr``,
            ``uniform``, ``karras``, ``edm``) or the decreasing times themselves. The defaults, UniPC
            (bh2, order 2) on the quadratic grid, had the lowest error of any method at 5-20 NFE that
            needs no model statistics in ``benchmarks/solvers.py`` (docs/benchmarks/solvers.md).
        rho: the Karras grid's exponent (``schedule="karras"``).
        guidance: classifier-free guidance scale ``w`` applied to a :class:`ModelDenoiser`
            (``out_u + w (out_c - out_u)``); ``None`` keeps the denoiser's own setting.
        shape: sample shape when ``x_T`` is ``None`` (tuple states, with a ``ProductProcess``, need ``x_T``
            and a grid that does not use ``log_snr``, e.g. ``schedule="uniform"``).
        generator: explicit RNG for the prior and any solver noise.
        progress: show a progress bar over the solver steps.
        options: method-specific options (``order``, ``variant``, ``eta``, ``clip_x0``, ...; see docs/solvers.md).

    Returns:
        :class:`Samples` with the final state and the number of denoiser evaluations.
    """
    if method not in METHODS:
        raise ValueError(f"sample: unknown method {method!r}; expected one of {sorted(METHODS)}")
    if guidance is not None:
        if not isinstance(denoiser, ModelDenoiser):
            raise ValueError("sample: guidance needs a ModelDenoiser (a network that takes cond_drop)")
        denoiser = _with_guidance(denoiser, float(guidance))
    if x_T is None:
        if shape is None:
            raise ValueError("sample: give x_T or shape")
        eps = randn(shape, generator, device=device, dtype=dtype)
        x_T = process.prior_sample(shape, y=y, device=device, dtype=dtype, noise=eps)
    grid = time_grid(process, steps, schedule, t_start, t_end, rho=rho)
    bar = _progress_bar(steps, method) if progress else None

    def on_step(i: int, x: Tensor, x0_hat: Tensor) -> None:
        if bar is not None:
            bar.update(1)
        if callback is not None:
            callback(i, x, x0_hat)

    try:
        return METHODS[method](
            denoiser,
            process,
            _cast(x_T, dtype),
            grid,
            y,
            generator=generator,
            callback=on_step if (bar is not None or callback is not None) else None,
            return_trajectory=return_trajectory,
            **options,
        )
    finally:
        if bar is not None:
            bar.close()


def _with_guidance(denoiser: ModelDenoiser, guidance: float) -> ModelDenoiser:
    out = copy.copy(denoiser)
    out.guidance = guidance
    return out


def _cast(x: Any, dtype: torch.dtype) -> Any:
    """Cast a state, or each tensor of a tuple state (GDSS-style systems), to ``dtype``."""
    return tuple(v.to(dtype) for v in x) if isinstance(x, tuple) else x.to(dtype)


def _progress_bar(steps: int, method: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=steps, desc=f"sampling ({method})", unit="step", leave=False)
