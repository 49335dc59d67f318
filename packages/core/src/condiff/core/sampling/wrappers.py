"""Samplers that wrap another method: the Time-Shift sampler.

Li et al. (2024), "Alleviating Exposure Bias in Diffusion Models through Sampling with Shifted Time
Steps" (TS-DPM, ICLR 2024, Alg. 1-2). A state produced by an inexact sampler at the nominal time
``t_i`` is better matched by a nearby time ``t_s`` whose noise level equals the state's variance; the
next step then starts from ``t_s`` instead of ``t_i``.

The rule, for every grid time ``t_i`` after the first with ``t_i > cutoff``, per sample:

    v_hat = Var(x - b(t_i) y)       (over all elements of the sample, unbiased, as TS-DPM's torch.var)
    t_s   = argmin_{t in C_i} | v_hat - (s(t)^2 + a(t)^2 data_var) |
    C_i   = {t_i + k delta : |k| <= window // 2},  delta = (T - t_min) / train_steps,

restricted to ``(t_{i+1}, T]``. TS-DPM compares with ``1 - alphabar_t``, which is ``s(t)^2`` of the
VP path: ``data_var = 0`` (the default) is their rule, a positive value adds the data's per-element
variance; ``window`` and ``train_steps`` follow their window over the 1000 training steps. Steps at or
below ``cutoff`` (and the first step, which starts from the exact prior) are not shifted.

Any method of :data:`condiff.core.sampling.solvers.METHODS` can be wrapped: shifted intervals run the
base method over the one-interval grid ``[t_s, t_{i+1}]``, once per distinct ``t_s`` in the batch on
the full batch (so conditioning baked into the denoiser stays aligned), keeping the rows that chose
it; the unshifted tail below ``cutoff`` runs as one call. Multistep bases therefore restart their
history at every shifted step, and NFE counts every denoiser call of every group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling.denoiser import Denoiser
from condiff.core.sampling.noise import Generators
from condiff.core.sampling.types import Samples


def _shifted_times(
    process: GaussianProcess,
    x: Tensor,
    y: Tensor | None,
    t: float,
    t_next: float,
    window: int,
    data_var: float,
    train_steps: int,
) -> Tensor:
    """Per-sample shifted start times ``(B,)`` (float64) by TS-DPM's variance-matching rule."""
    delta = (process.T - process.t_min) / train_steps
    half = window // 2
    cand = torch.tensor([t + k * delta for k in range(-half, half + 1)], dtype=torch.float64)
    cand = cand[(cand > t_next) & (cand <= process.T)]
    c = process.coefficients64(cand)
    target = c.s.square() + c.a.square() * data_var  # (K,)
    b = float(process.coefficients64(torch.tensor(t, dtype=torch.float64)).b)
    r = x if y is None or b == 0.0 else x - b * y.to(x.dtype)
    v_hat = r.reshape(x.shape[0], -1).to(torch.float64).var(dim=-1).cpu()  # (B,)
    return cand[(v_hat[:, None] - target[None]).abs().argmin(dim=1)]


def time_shift(
    denoiser: Denoiser,
    process: GaussianProcess,
    x: Tensor,
    grid: Tensor,
    y: Tensor | None = None,
    *,
    base_method: str = "ddim",
    window: int = 10,
    cutoff: float | None = None,
    data_var: float = 0.0,
    train_steps: int = 1000,
    generator: Generators = None,
    callback: Callable[[int, Tensor, Tensor], None] | None = None,
    return_trajectory: bool = False,
    **base_options: Any,
) -> Samples:
    """The Time-Shift sampler (Li et al. 2024, Alg. 2) over any base method; rule in the module docstring.

    Args:
        base_method: name of the wrapped method; its options pass through ``base_options``.
        window: TS-DPM's window size in training steps (candidates ``t_i + k delta``, ``|k| <= window // 2``);
            0 runs the base method unchanged.
        cutoff: shift only at grid times above it; default the middle of ``[t_min, T]``.
        data_var: per-element data variance added to the target ``s^2`` (0 = TS-DPM).
        train_steps: number of training steps that set ``delta = (T - t_min) / train_steps``.
    """
    from condiff.core.sampling.solvers import METHODS  # lazy: solvers imports this module

    if base_method == "time-shift" or base_method not in METHODS:
        raise ValueError(f"time-shift: base_method must be another method of {sorted(METHODS)}, got {base_method!r}")
    if window < 0 or train_steps < 1 or data_var < 0:
        raise ValueError(
            f"time-shift: need window >= 0, train_steps >= 1, data_var >= 0; got {window}, {train_steps}, {data_var}"
        )
    if not isinstance(x, Tensor):
        raise ValueError("time-shift: tuple states are not supported")
    base = METHODS[base_method]
    cut = 0.5 * (process.t_min + process.T) if cutoff is None else float(cutoff)
    n_steps = len(grid) - 1
    # grid times that may be shifted: index 1 .. last - 1 with t_j > cutoff
    last = 1
    while window > 0 and last < n_steps and float(grid[last]) > cut:
        last += 1

    def run(x_in: Tensor, sub_grid: Tensor, cb: Callable[[int, Tensor, Tensor], None] | None, traj: bool) -> Samples:
        return base(
            denoiser,
            process,
            x_in,
            sub_grid,
            y,
            generator=generator,
            callback=cb,
            return_trajectory=traj,
            **base_options,
        )

    if last == 1:
        return run(x, grid, callback, return_trajectory)
    trajectory, nfe = [x] if return_trajectory else [], 0
    record: list[Tensor] = []  # the base method's x0_hat of the current group

    def keep(_j: int, _x: Tensor, x0: Tensor) -> None:
        record.append(x0)

    for i in range(last):
        t_next = float(grid[i + 1])
        starts = (
            torch.full((x.shape[0],), float(grid[0]), dtype=torch.float64)
            if i == 0
            else _shifted_times(process, x, y, float(grid[i]), t_next, window, data_var, train_steps)
        )
        x_new, x0_new = torch.empty_like(x), torch.empty_like(x)
        for t_s in torch.unique(starts):
            rows = (starts == t_s).to(x.device)
            record.clear()
            res = run(x, torch.stack([t_s, torch.tensor(t_next, dtype=torch.float64)]), keep, False)
            nfe += res.nfe
            x_new[rows] = res.x[rows]
            if record:
                x0_new[rows] = record[-1].to(x.dtype)[rows]
        x = x_new
        if callback is not None:
            callback(i, x, x0_new)
        if return_trajectory:
            trajectory.append(x)
    if last < n_steps:
        cb = None if callback is None else (lambda j, xx, x0: callback(j + last, xx, x0))
        res = run(x, grid[last:], cb, return_trajectory)
        nfe += res.nfe
        x = res.x
        trajectory.extend(res.trajectory[1:])
    return Samples(x=x, nfe=nfe, trajectory=trajectory)


METHODS: dict[str, Callable[..., Samples]] = {"time-shift": time_shift}
