"""Masked (absorbing-state) discrete diffusion in continuous time (MDLM, Sahoo et al. 2024; MD4, Shi et al. 2024).

* schedules :class:`LogLinearSchedule`, :class:`LinearSchedule`, :class:`CosineSchedule`, :class:`GeometricSchedule`;
* :class:`MaskedDiffusion`: forward masking, the substitution parameterization, continuous and ``T``-step NELBO;
* :func:`step` (one reverse transition) and :func:`sample` (ancestral sampling with caching);
* :func:`relaxed_step`, :func:`relaxed_sample`, :func:`straight_through` (Gumbel-softmax differentiable sampling).

Formulas and equation labels (D1-D7): ``docs/discrete.md``.
"""

from condiff.core.discrete.masking import LogitsFn, MaskedDiffusion
from condiff.core.discrete.relaxed import one_hot, relaxed_sample, relaxed_step, straight_through
from condiff.core.discrete.sampling import DiscreteSamples, reverse_transition, sample, step, time_grid
from condiff.core.discrete.schedules import (
    CosineSchedule,
    GeometricSchedule,
    LinearSchedule,
    LogLinearSchedule,
    MaskSchedule,
)

__all__ = [
    "CosineSchedule",
    "DiscreteSamples",
    "GeometricSchedule",
    "LinearSchedule",
    "LogLinearSchedule",
    "LogitsFn",
    "MaskSchedule",
    "MaskedDiffusion",
    "one_hot",
    "relaxed_sample",
    "relaxed_step",
    "reverse_transition",
    "sample",
    "step",
    "straight_through",
    "time_grid",
]
