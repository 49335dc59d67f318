"""Guidance as denoiser wrappers: every solver of :func:`condiff.core.sampling.sample` works with each.

* :class:`CFGDenoiser`: classifier-free guidance with a scale schedule and rescaling.
* :class:`ClassifierGuidance`: a classifier's or reward's gradient on the noisy state.
* :class:`X0Guidance`: a cost's gradient on the predicted clean sample (DPS-style or x0 step).
* :class:`ReplacementConditioning`: known entries overwritten at the right noise level.
"""

from condiff.core.guidance import schedules
from condiff.core.guidance.cfg import CFGDenoiser, model_joint
from condiff.core.guidance.classifier import ClassifierGuidance, state_gradient
from condiff.core.guidance.replacement import ReplacementConditioning, replace_known
from condiff.core.guidance.x0_gradient import X0Guidance

__all__ = [
    "CFGDenoiser",
    "ClassifierGuidance",
    "ReplacementConditioning",
    "X0Guidance",
    "model_joint",
    "replace_known",
    "schedules",
    "state_gradient",
]
