"""Small MLPs of the planner: inverse dynamics ``a_t = f(s_t, s_{t+1})`` and the plan critic."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _mlp(din: int, hidden: int, dout: int, layers: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    d = din
    for _ in range(layers):
        mods += [nn.Linear(d, hidden), nn.Mish()]
        d = hidden
    mods.append(nn.Linear(d, dout))
    return nn.Sequential(*mods)


class InverseDynamics(nn.Module):
    """``a_t = f(s_t, s_{t+1})`` (Decision Diffuser, Ajay et al. 2023, Eq. 4), in normalised states and actions."""

    def __init__(self, state_dim: int, action_dim: int, hidden: int = 128, layers: int = 2) -> None:
        super().__init__()
        self.state_dim = state_dim
        self.net = _mlp(2 * state_dim, hidden, action_dim, layers)

    def forward(self, s: Tensor, s_next: Tensor) -> Tensor:
        if s.shape != s_next.shape or s.shape[-1] != self.state_dim:
            raise ValueError(
                f"InverseDynamics: states must be (B, {self.state_dim}), got {tuple(s.shape)}, {tuple(s_next.shape)}"
            )
        return self.net(torch.cat([s, s_next], dim=-1))


class PlanCritic(nn.Module):
    """``Q(plan, g)``: the return a state plan ``(B, H, D)`` earns (toward goal ``g`` when given); ranks candidates."""

    def __init__(self, state_dim: int, horizon: int, goal_dim: int = 0, hidden: int = 128, layers: int = 2) -> None:
        super().__init__()
        self.state_dim, self.horizon, self.goal_dim = state_dim, horizon, goal_dim
        self.net = _mlp(state_dim * horizon + goal_dim, hidden, 1, layers)

    def forward(self, plan: Tensor, goal: Tensor | None = None) -> Tensor:
        b = plan.shape[0]
        if plan.shape[1:] != (self.horizon, self.state_dim):
            raise ValueError(f"PlanCritic: plan must be (B, {self.horizon}, {self.state_dim}), got {tuple(plan.shape)}")
        x = plan.reshape(b, -1)
        if self.goal_dim:
            if goal is None:
                raise ValueError("PlanCritic: this critic is goal-conditioned; pass goal (B, 2)")
            x = torch.cat([x, goal.reshape(b, self.goal_dim)], dim=-1)
        return self.net(x).squeeze(-1)
