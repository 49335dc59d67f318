"""Classifier (or reward) guidance on the noisy state (Dhariwal & Nichol 2021, Sec. 4; Song et al. 2021, eq. 14).

    grad log p_t(x | c) = grad log p_t(x) + w(t) grad_x log p(c | x_t = x, t)

``log_prob(x, t)`` may be any differentiable function of the noisy state (a noise-aware
classifier's log-probability, a reward model trained on noisy inputs); the shifted score is
returned as the consistent pair ``eps' = eps - s w g``, ``x0' = x0 + (s^2 / a) w g``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from condiff.core.guidance.common import shift_score
from condiff.core.guidance.schedules import Schedule, weight_at
from condiff.core.processes.base import GaussianProcess, expand_like
from condiff.core.sampling.denoiser import Denoiser

LogProb = Callable[[Tensor, Tensor], Tensor]


def state_gradient(fn: LogProb, x: Tensor, t: Tensor) -> Tensor:
    """``grad_x fn(x, t)`` for ``fn: (B, ...) -> (B,)`` (each sample's own gradient), with grad enabled."""
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        value = fn(xg, t)
        if value.shape != (x.shape[0],):
            raise ValueError(f"guidance function must return one value per sample (B,), got {tuple(value.shape)}")
        (grad,) = torch.autograd.grad(value.sum(), xg)
    return grad


class ClassifierGuidance:
    """Add ``w(t) grad_x log_prob(x, t)`` to the score of ``denoiser``.

    Args:
        denoiser: the (unconditional) denoiser.
        process: its path.
        log_prob: ``(x: (B, ...), t: (B,)) -> (B,)``, differentiable in ``x``.
        scale: the weight ``w``, a number or a schedule.
        y: the process condition, if any.
    """

    def __init__(
        self,
        denoiser: Denoiser,
        process: GaussianProcess,
        log_prob: LogProb,
        scale: Schedule = 1.0,
        y: Tensor | None = None,
    ) -> None:
        self.denoiser, self.process, self.log_prob, self.scale, self.y = denoiser, process, log_prob, scale, y

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        x0, eps = self.denoiser(x, t)
        w = expand_like(weight_at(self.scale, t, self.process), x)
        grad = state_gradient(self.log_prob, x, t)
        return shift_score(self.process, x, t, x0, eps, w * grad, self.y)
