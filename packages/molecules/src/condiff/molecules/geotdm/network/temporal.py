"""Equivariant temporal attention across the frames of each particle (GeoTDM's temporal layer), by broadcasting."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class EquivariantTemporalAttention(nn.Module):
    """Multi-head attention over frames ``s`` for every particle and frame ``t``, equivariant in ``x``.

    Attention weights come from invariant features only, ``alpha^k_ts = softmax_s(q^k_t . k^k_s / sqrt(d))``;
    the values are the features and the coordinates:

        h_t <- h_t + W_o [sum_s alpha^k_ts v^k_s]_k
        x_t <- x_t + sum_k gamma_k(h_t) sum_s alpha^k_ts (x_s - x_t)
             = x_t + sum_k gamma_k(h_t) (sum_s alpha^k_ts x_s - x_t)        (the weights sum to one)

    The second line is why no per-pair tensor is needed: the relative-coordinate update is one attention with
    ``x`` as value followed by a broadcast subtraction, so one fused ``scaled_dot_product_attention`` call over
    ``[v | x]`` gives both updates without building ``(M, heads, T, T)`` pair messages. Relative coordinates
    make ``x`` translation and rotation/reflection equivariant; ``h`` stays invariant.
    """

    def __init__(self, hidden: int, heads: int = 2) -> None:
        super().__init__()
        if hidden % heads:
            raise ValueError(f"EquivariantTemporalAttention: hidden={hidden} must be divisible by heads={heads}")
        self.heads = heads
        self.head_dim = hidden // heads
        self.norm = nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.gate = nn.Linear(hidden, heads)
        nn.init.zeros_(self.gate.bias)
        nn.init.normal_(self.gate.weight, std=1e-3)  # start near the identity map on coordinates

    def forward(self, h: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """``h: (M, T, hidden)``, ``x: (M, T, 3)`` -> new ``(h, x)``, attention within each particle's frames."""
        m, t, _ = h.shape
        q, k, v = self.qkv(self.norm(h)).reshape(m, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        value = torch.cat([v, x[:, None].expand(-1, self.heads, -1, -1)], dim=-1)  # (M, heads, T, d + 3)
        # The fused (flash) kernels need one head size for q, k and v, else torch falls back to the math kernel
        # that stores the (M, heads, T, T) weights: zero-padding q and k leaves q.k unchanged.
        q, k = F.pad(q, (0, 3)), F.pad(k, (0, 3))
        mixed = F.scaled_dot_product_attention(q, k, value, scale=self.head_dim**-0.5)
        h_mix = mixed[..., : self.head_dim].transpose(1, 2).reshape(m, t, -1)
        x_mix = mixed[..., self.head_dim :].transpose(1, 2)  # (M, T, heads, 3)
        gamma = self.gate(h)  # (M, T, heads)
        x = x + (gamma[..., None] * (x_mix - x[:, :, None])).sum(dim=2)
        return h + self.out(h_mix), x
