"""Gradient guidance on the predicted clean sample ``x0_hat``: steer sampling down a cost ``J(x0)``.

Two forms, both with a weight schedule ``w(t)``:

* ``through_denoiser=True`` (DPS-style, Chung et al. 2023, eq. 16; the control guidance of WDNO,
  Hu et al. 2025): the score gains ``-w(t) grad_{x_t} J(x0_hat(x_t))``, the gradient taken through
  the denoiser, i.e. ``p(x_t)`` is tilted by ``exp(-w J(x0_hat(x_t)))``.
* ``through_denoiser=False`` (the cheaper "x0 step" of universal guidance, Bansal et al. 2023,
  eq. 6 without the backward loop): ``x0_hat <- x0_hat - w(t) grad_{x0} J(x0_hat)``, with ``eps``
  recomputed from the state so that every solver sees a consistent pair.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from condiff.core.guidance.common import eps_from_x0, shift_score
from condiff.core.guidance.schedules import Schedule, weight_at
from condiff.core.processes.base import GaussianProcess, expand_like
from condiff.core.sampling.denoiser import Denoiser

Cost = Callable[[Tensor], Tensor]


class X0Guidance:
    """Guide ``denoiser`` by the gradient of ``cost(x0_hat): (B, ...) -> (B,)`` (module docstring).

    Args:
        denoiser: the denoiser to guide (differentiable when ``through_denoiser``).
        process: its path.
        cost: per-sample cost of a clean sample, differentiable.
        weight: ``w``, a number or a schedule of :mod:`condiff.core.guidance.schedules`.
        through_denoiser: differentiate through the denoiser (DPS) or only through the cost.
        y: the process condition, if any.
    """

    def __init__(
        self,
        denoiser: Denoiser,
        process: GaussianProcess,
        cost: Cost,
        weight: Schedule = 1.0,
        through_denoiser: bool = True,
        y: Tensor | None = None,
    ) -> None:
        self.denoiser, self.process, self.cost, self.weight = denoiser, process, cost, weight
        self.through_denoiser, self.y = through_denoiser, y

    def __call__(self, x: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        w = expand_like(weight_at(self.weight, t, self.process), x)
        if self.through_denoiser:
            with torch.enable_grad():
                xg = x.detach().requires_grad_(True)
                x0, eps = self.denoiser(xg, t)
                (grad,) = torch.autograd.grad(_per_sample(self.cost, x0).sum(), xg)
            return shift_score(self.process, x, t, x0.detach(), eps.detach(), -w * grad, self.y)
        x0, _ = self.denoiser(x, t)
        with torch.enable_grad():
            x0g = x0.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(_per_sample(self.cost, x0g).sum(), x0g)
        x0 = x0.detach() - w * grad
        return x0, eps_from_x0(self.process, x, t, x0, self.y)


def _per_sample(cost: Cost, x0: Tensor) -> Tensor:
    value = cost(x0)
    if value.shape != (x0.shape[0],):
        raise ValueError(f"X0Guidance: cost must return one value per sample (B,), got {tuple(value.shape)}")
    return value
