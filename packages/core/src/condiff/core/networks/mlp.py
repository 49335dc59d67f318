"""A residual MLP denoiser for flat or small inputs."""

from __future__ import annotations

import math

from torch import Tensor, nn

from condiff.core.networks.embeddings import ClassEmbedding, TimeEmbedding


class _ResidualBlock(nn.Module):
    def __init__(self, width: int, emb_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.emb = nn.Linear(emb_dim, 2 * width)
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.drop = nn.Dropout(dropout)
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, h: Tensor, emb: Tensor) -> Tensor:
        scale, shift = self.emb(emb).chunk(2, dim=-1)
        z = self.norm(h) * (1 + scale) + shift
        z = self.fc2(self.drop(nn.functional.silu(self.fc1(nn.functional.silu(z)))))
        return h + z


class ConditionalMLP(nn.Module):
    """Residual MLP ``(x, t, labels) -> output`` shaped like ``x``, FiLM-conditioned on time and class.

    Args:
        data_shape: shape of one sample, e.g. ``(1, 8, 8)``; inputs are flattened.
        width: hidden width.
        depth: number of residual blocks.
        num_classes: number of class labels (0 for unconditional).
        emb_dim: time/class embedding width.
        dropout: dropout inside the blocks.
    """

    def __init__(
        self,
        data_shape: tuple[int, ...] | list[int],
        width: int = 256,
        depth: int = 3,
        num_classes: int = 0,
        emb_dim: int = 128,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.data_shape = tuple(int(d) for d in data_shape)
        dim = math.prod(self.data_shape)
        self.time = TimeEmbedding(emb_dim)
        self.classes = ClassEmbedding(num_classes, emb_dim) if num_classes > 0 else None
        self.inp = nn.Linear(dim, width)
        self.blocks = nn.ModuleList(_ResidualBlock(width, emb_dim, dropout) for _ in range(depth))
        self.out = nn.Sequential(nn.LayerNorm(width), nn.SiLU(), nn.Linear(width, dim))

    def forward(self, x: Tensor, t: Tensor, labels: Tensor | None = None, cond_drop: Tensor | None = None) -> Tensor:
        """``x: (B, *data_shape)``, ``t: (B,)`` -> ``(B, *data_shape)``."""
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(f"ConditionalMLP expects inputs of shape (B, {self.data_shape}), got {tuple(x.shape)}")
        b = x.shape[0]
        emb = self.time(t.expand(b) if t.ndim == 0 else t)
        if self.classes is not None:
            emb = emb + self.classes(labels, b, x.device, cond_drop)
        h = self.inp(x.flatten(1))
        for block in self.blocks:
            h = block(h, emb)
        return self.out(h).reshape(x.shape)
