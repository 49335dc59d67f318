"""Causal transformer that proposes a state trajectory autoregressively (Trajectory Diffuser's proposal model)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class CausalStateTransformer(nn.Module):
    """``p(s_{k+1} | s_{<=k}, R, g)``: token ``k`` embeds ``(s_k, R, g)``; a causal encoder predicts the
    Gaussian mean and log-std of the next-state increment ``s_{k+1} - s_k`` (in normalised units).

    Args:
        state_dim: ``D``.
        horizon: longest sequence (position embeddings).
        goal_dim: 2 for PointMaze goals, 0 for none.
        d_model, num_layers, num_heads: transformer size.
    """

    def __init__(
        self,
        state_dim: int,
        horizon: int,
        goal_dim: int = 0,
        d_model: int = 64,
        num_layers: int = 2,
        num_heads: int = 4,
    ) -> None:
        super().__init__()
        self.state_dim, self.goal_dim, self.horizon = state_dim, goal_dim, horizon
        self.embed = nn.Linear(state_dim + 1 + goal_dim, d_model)
        self.pos = nn.Parameter(torch.zeros(horizon, d_model))
        layer = nn.TransformerEncoderLayer(
            d_model, num_heads, 2 * d_model, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, 2 * state_dim)

    def forward(self, states: Tensor, returns: Tensor, goal: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``states (B, K, D)``, ``returns (B, 1)``, ``goal (B, G)`` -> increment mean, log-std ``(B, K, D)``."""
        b, k, _ = states.shape
        if k > self.horizon:
            raise ValueError(f"CausalStateTransformer: {k} states exceed the horizon {self.horizon}")
        parts = [states, returns.reshape(b, 1, 1).expand(b, k, 1)]
        if self.goal_dim:
            if goal is None:
                raise ValueError("CausalStateTransformer: this model is goal-conditioned; pass goal (B, 2)")
            parts.append(goal.reshape(b, 1, self.goal_dim).expand(b, k, self.goal_dim))
        h = self.embed(torch.cat(parts, dim=-1)) + self.pos[:k]
        mask = nn.Transformer.generate_square_subsequent_mask(k, device=states.device, dtype=h.dtype)
        mean, log_std = self.head(self.encoder(h, mask=mask, is_causal=True)).chunk(2, dim=-1)
        return mean, log_std.clamp(-7.0, 2.0)

    @torch.no_grad()
    def propose(
        self,
        s0: Tensor,
        returns: Tensor,
        goal: Tensor | None,
        horizon: int,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
    ) -> Tensor:
        """Autoregressive rollout ``s_{k+1} = s_k + mu + temperature sigma n``, ``s0 (B, D)`` -> ``(B, H, D)``."""
        states = s0[:, None]
        for _ in range(horizon - 1):
            mean, log_std = self(states, returns, goal)
            noise = torch.randn(mean[:, -1].shape, generator=generator, device=s0.device, dtype=s0.dtype)
            nxt = states[:, -1] + mean[:, -1] + temperature * log_std[:, -1].exp() * noise
            states = torch.cat([states, nxt[:, None]], dim=1)
        return states
