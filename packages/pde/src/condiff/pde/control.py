"""WDNO control: generate a forcing that steers Burgers from ``u0`` to a target ``u_d`` at low cost.

The control objective of the Burgers task (WDNO, Hu et al. 2025, after DiffPhyCon, Wei et al. 2024):

    J = J_target + alpha * J_cost,   J_target = int |u(T, x) - u_d(x)|^2 dx,   J_cost = int_0^T int |f(t, x)|^2 dx dt

discretised on the grid (``dx = L / N``, ``dt = t_final / nt``, the forcing piecewise constant per frame
interval). WDNO samples ``(u, f)`` jointly from ``p(u, f | u0 [, u_d])`` and steers the sampler with the
gradient of ``J`` evaluated on the *predicted clean trajectory* (the core's
:class:`condiff.core.guidance.X0Guidance`, DPS form: ``score += -w(t) grad_{x_t} J(decode(x0_hat(x_t)))``,
with a weight schedule ``w(t)``). The generated forcing is then judged by the real solver:
:func:`evaluate_forcing` runs :func:`condiff.pde.physics.burgers` with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from condiff.core.guidance import X0Guidance
from condiff.core.guidance.schedules import Schedule
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling import ModelDenoiser, sample
from condiff.pde.codec import PixelCodec
from condiff.pde.fields import condition_fields, split_fields
from condiff.pde.physics import burgers


@dataclass(frozen=True)
class ControlObjective:
    """``J = int |u(T) - u_d|^2 dx + alpha int int |f|^2 dx dt`` on a periodic grid of length ``length``.

    Attributes:
        target: ``(B, N)`` desired final state ``u_d``.
        alpha: weight of the control cost.
        t_final: final time (``dt = t_final / nt``).
        length: domain length (``dx = length / N``).
    """

    target: Tensor
    alpha: float = 0.01
    t_final: float = 1.0
    length: float = 1.0

    def target_error(self, u_final: Tensor) -> Tensor:
        """``int |u(T) - u_d|^2 dx``: ``(B,)``."""
        dx = self.length / u_final.shape[-1]
        return dx * (u_final - self.target.to(u_final)).square().sum(dim=-1)

    def cost(self, forcing: Tensor) -> Tensor:
        """``int_0^T int |f|^2 dx dt`` of ``forcing: (B, nt, N)``: ``(B,)``."""
        dx, dt = self.length / forcing.shape[-1], self.t_final / forcing.shape[1]
        return dx * dt * forcing.square().sum(dim=(1, 2))

    def __call__(self, u_final: Tensor, forcing: Tensor) -> Tensor:
        """``J``: ``(B,)``."""
        return self.target_error(u_final) + self.alpha * self.cost(forcing)


@dataclass
class ControlResult:
    """A generated control and how it does.

    Attributes:
        forcing: ``(B, nt, N)`` the generated forcing.
        u_diffused: ``(B, T, N)`` the trajectory the model generated alongside it.
        u_solver: ``(B, T, N)`` the trajectory the real solver produces with ``forcing`` from ``u0``.
        objective: ``(B,)`` ``J`` of the solver's trajectory.
        target_error: ``(B,)``, ``cost``: ``(B,)`` its two terms.
        nfe: network evaluations.
    """

    forcing: Tensor
    u_diffused: Tensor
    u_solver: Tensor
    objective: Tensor
    target_error: Tensor
    cost: Tensor
    nfe: int


Solver = Callable[[Tensor, Tensor], Tensor]


def evaluate_forcing(
    u0: Tensor, forcing: Tensor, objective: ControlObjective, nu: float = 0.01, solver: Solver | None = None
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Run the solver from ``u0`` with ``forcing``; return ``(u, J, J_target, J_cost)``.

    ``solver(u0, forcing) -> u: (B, nt + 1, N)``, e.g. :meth:`BurgersDataModule.solve
    <condiff.pde.datamodule.BurgersDataModule.solve>`; by default :func:`condiff.pde.physics.burgers` with ``nu``.
    """
    if solver is None:
        u = burgers(u0.double(), nu=nu, nt=forcing.shape[1], t_final=objective.t_final, forcing=forcing.double())
    else:
        u = solver(u0.double(), forcing.double())
    err, cost = objective.target_error(u[:, -1]), objective.cost(forcing.double())
    return u, err + objective.alpha * cost, err, cost


def control(
    network: nn.Module,
    process: GaussianProcess,
    parameterization: str,
    codec: PixelCodec,
    cond_codec: PixelCodec,
    u0: Tensor,
    objective: ControlObjective,
    *,
    frames: int,
    weight: Schedule = 1.0,
    condition_on_target: bool = False,
    nu: float = 0.01,
    solver: Solver | None = None,
    steps: int = 50,
    method: str = "ddim",
    generator: torch.Generator | None = None,
    **options: Any,
) -> ControlResult:
    """Generate a forcing for ``u0: (B, N)`` by guided sampling and evaluate it with the solver.

    Args:
        network: trained on :class:`~condiff.pde.datamodule.BurgersDataModule` batches; with
            ``condition_on_target`` the model ``p(u, f | u0, u_T)`` (``condition_on_final=True``), to which the
            target is given as ``u_T`` as in the paper's control model; otherwise ``p(u, f | u0)``.
        frames: rows ``T = nt + 1`` of the trajectory image.
        weight: guidance weight ``w`` or a schedule of :mod:`condiff.core.guidance.schedules`.
        nu, solver: the solver that judges the forcing (:func:`evaluate_forcing`).
        steps, method, options: passed to :func:`condiff.core.sampling.sample`.
    """
    n = u0.shape[-1]
    u0 = u0.float()
    target = objective.target.float() if condition_on_target else None
    cond = {"cond_image": cond_codec.encode(condition_fields(u0, frames, target))}
    denoiser = ModelDenoiser(network, process, parameterization, cond=cond)

    def cost(x0: Tensor) -> Tensor:
        u, f = split_fields(codec.decode(x0, (frames, n)))
        return objective(u[:, -1], f)

    guided = X0Guidance(denoiser, process, cost, weight=weight, through_denoiser=True)
    shape = (u0.shape[0], codec.state_channels, *codec.encode(u0.new_zeros(1, 2, frames, n)).shape[-2:])
    result = sample(
        guided, process, shape=shape, steps=steps, method=method, generator=generator, device=u0.device, **options
    )
    u_diffused, forcing = split_fields(codec.decode(result.x.detach(), (frames, n)))
    u_solver, total, err, c = evaluate_forcing(u0, forcing, objective, nu, solver)
    return ControlResult(forcing, u_diffused, u_solver.float(), total, err, c, result.nfe)
