"""Plan a state trajectory, pick the best of a few candidates, act by inverse dynamics; replanned every step."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling import ModelDenoiser, sample
from condiff.rl.planning.replacement import ReplacementDenoiser
from condiff.rl.training.helpers import PlannerModels

MODES = ("trajectory_diffuser", "decision_diffuser")


@dataclass
class Plan:
    """``actions (N, A)`` to execute, ``states (N, H, D)`` the chosen plans (raw units), ``nfe`` and wall time."""

    actions: np.ndarray
    states: np.ndarray
    nfe: int
    seconds: float


class Planner:
    """Trajectory Diffuser (Hu et al. 2023) or its full-diffusion baseline on one trained diffusion model.

    ``trajectory_diffuser``: the causal transformer proposes ``K`` state trajectories; each is noised to
    ``x_t = a(t_r) x + s(t_r) eps`` at the small time ``t_r = refine_t`` and the core solver integrates
    ``refine_steps`` steps back to ``t_min`` (the diffusion model as an optimiser of a feasible start).
    ``decision_diffuser``: ``K`` plans sampled from pure noise with ``full_steps`` steps (Ajay et al. 2023).
    Both guide on the return (classifier-free, scale ``guidance``), give the network the current state
    (cond ``start``) and fix it in the plan by replacement, clip ``x0_hat`` to ``state_bounds`` (the
    normalised range of the training states, ``clip_x0``), score the candidates with the critic and turn
    the first planned transition into an action with the inverse dynamics ``a = f(s_0, s_1)``.
    """

    def __init__(
        self,
        network: nn.Module,
        process: GaussianProcess,
        parameterization: str,
        models: PlannerModels,
        state_mean: np.ndarray,
        state_std: np.ndarray,
        action_scale: np.ndarray,
        horizon: int,
        mode: str = "trajectory_diffuser",
        num_candidates: int = 4,
        target_return: float = 1.0,
        guidance: float = 1.2,
        refine_t: float = 0.3,
        refine_steps: int = 3,
        refine_method: str = "unipc",
        full_steps: int = 50,
        full_method: str = "ddim",
        proposal_temperature: float = 1.0,
        state_bounds: tuple[np.ndarray, np.ndarray] | None = None,
        clip_x0: bool = True,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"Planner: mode {mode!r} is not one of {MODES}")
        self.network, self.process, self.parameterization, self.models = (
            network.eval(),
            process,
            parameterization,
            models,
        )
        self.mean, self.std = torch.from_numpy(state_mean).float(), torch.from_numpy(state_std).float()
        self.action_scale = torch.from_numpy(action_scale).float()
        self.horizon, self.mode, self.k = horizon, mode, num_candidates
        self.target_return, self.guidance = target_return, guidance
        self.refine_t, self.refine_steps, self.refine_method = refine_t, refine_steps, refine_method
        self.full_steps, self.full_method, self.temperature = full_steps, full_method, proposal_temperature
        self.bounds = (
            (torch.as_tensor(state_bounds[0]).float(), torch.as_tensor(state_bounds[1]).float())
            if clip_x0 and state_bounds is not None
            else None
        )

    def normalize_goal(self, goal: np.ndarray) -> Tensor:
        return (torch.from_numpy(goal).float() - self.mean[:2]) / self.std[:2]

    @torch.no_grad()
    def plan(self, states: np.ndarray, goals: np.ndarray | None, generator: torch.Generator) -> Plan:
        """Plans and first actions for ``states (N, D)`` (raw) toward ``goals (N, 2)`` (mazes) or ``None``."""
        start = time.perf_counter()
        n, k = states.shape[0], self.k
        s0 = ((torch.from_numpy(states).float() - self.mean) / self.std).repeat_interleave(k, 0)
        goal = None if goals is None else self.normalize_goal(goals).repeat_interleave(k, 0)
        returns = torch.full((n * k, 1), float(self.target_return))
        cond: dict[str, Any] = {"returns": returns, "start": s0}
        if goal is not None:
            cond["goal"] = goal
        den = ReplacementDenoiser(
            ModelDenoiser(self.network, self.process, self.parameterization, cond=cond, guidance=self.guidance),
            self.process,
            s0,
            self.bounds,
        )
        if self.mode == "trajectory_diffuser":
            proposal = self.models.transformer.propose(s0, returns, goal, self.horizon, generator, self.temperature)
            x0 = proposal.transpose(1, 2).contiguous()
            t = torch.full((n * k,), self.refine_t)
            x_t, _ = self.process.marginal_sample(x0, t, generator=generator)
            res = sample(
                den, self.process, x_t, steps=self.refine_steps, method=self.refine_method, t_start=self.refine_t,
                generator=generator,
            )  # fmt: skip
        else:
            res = sample(
                den, self.process, shape=(n * k, s0.shape[1], self.horizon), steps=self.full_steps,
                method=self.full_method, generator=generator,
            )  # fmt: skip
        x = res.x.float()
        x[:, :, 0] = s0
        plans = x.transpose(1, 2)  # (NK, H, D)
        scores = self.models.critic(plans, goal).reshape(n, k)
        best = scores.argmax(1) + torch.arange(n) * k
        chosen = plans[best]
        actions = self.models.inverse_dynamics(chosen[:, 0], chosen[:, 1]) * self.action_scale
        raw = chosen * self.std + self.mean
        return Plan(actions.clamp(-1, 1).numpy(), raw.numpy(), res.nfe, time.perf_counter() - start)
