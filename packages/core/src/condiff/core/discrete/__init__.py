"""Masked (absorbing-state) discrete diffusion in continuous time (MDLM, Sahoo et al. 2024; MD4, Shi et al. 2024).

* schedules :class:`LogLinearSchedule`, :class:`LinearSchedule`, :class:`CosineSchedule`, :class:`GeometricSchedule`;
* :class:`MaskedDiffusion`: forward masking, the substitution parameterization, continuous and ``T``-step NELBO;
* :func:`step` (one reverse transition) and :func:`sample` (ancestral sampling with caching);
* :func:`relaxed_step`, :func:`relaxed_sample`, :func:`straight_through` (Gumbel-softmax differentiable sampling);
* :func:`cfg_logits_fn`, :func:`classifier_guided_logits_fn` (guidance) and :func:`discrete_smc` (SMC / TDS).

Formulas and equation labels (D1-D7): ``docs/discrete.md``.
"""

from condiff.core.discrete.guidance import LogValueFn, cfg_logits_fn, classifier_guided_logits_fn
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
from condiff.core.discrete.smc import DiscreteSMCResult, discrete_smc

__all__ = [
    "CosineSchedule",
    "DiscreteSMCResult",
    "DiscreteSamples",
    "GeometricSchedule",
    "LinearSchedule",
    "LogLinearSchedule",
    "LogValueFn",
    "LogitsFn",
    "MaskSchedule",
    "MaskedDiffusion",
    "cfg_logits_fn",
    "classifier_guided_logits_fn",
    "discrete_smc",
    "one_hot",
    "relaxed_sample",
    "relaxed_step",
    "reverse_transition",
    "sample",
    "step",
    "straight_through",
    "time_grid",
]
