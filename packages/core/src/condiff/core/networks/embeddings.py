"""Time and class embeddings shared by condiff's backbones."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def sinusoidal_embedding(t: Tensor, dim: int, scale: float = 1000.0, max_period: float = 10000.0) -> Tensor:
    """Transformer-style sinusoidal features of ``scale * t``; ``t: (B,)`` -> ``(B, dim)``."""
    if dim % 2:
        raise ValueError(f"sinusoidal_embedding: dim must be even, got {dim}")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = (scale * t.float())[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class TimeEmbedding(nn.Module):
    """Sinusoidal features of ``t`` followed by a two-layer MLP (DDPM)."""

    def __init__(self, dim: int, scale: float = 1000.0) -> None:
        super().__init__()
        self.dim = dim
        self.scale = scale
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: Tensor) -> Tensor:
        if t.ndim == 0:
            t = t.reshape(1)
        return self.mlp(sinusoidal_embedding(t, self.dim, self.scale))


class ClassEmbedding(nn.Module):
    """Class-label embedding with one extra learned "null" class for classifier-free guidance.

    ``cond_drop: (B,)`` bool marks samples whose label is replaced by the null class
    (Ho & Salimans 2022): training drops labels at random, guided sampling runs
    the network once with and once without them.
    """

    def __init__(self, num_classes: int, dim: int) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.embed = nn.Embedding(num_classes + 1, dim)

    def forward(
        self, labels: Tensor | None, batch: int, device: torch.device, cond_drop: Tensor | None = None
    ) -> Tensor:
        if labels is None:
            labels = torch.full((batch,), self.num_classes, device=device, dtype=torch.long)
        else:
            labels = labels.long()
            if labels.shape != (batch,):
                raise ValueError(f"labels must have shape ({batch},), got {tuple(labels.shape)}")
            if bool(((labels < 0) | (labels >= self.num_classes)).any()):
                raise ValueError(
                    f"labels must lie in [0, {self.num_classes}), got {labels.min().item()}..{labels.max().item()}"
                )
        if cond_drop is not None:
            labels = torch.where(cond_drop.to(labels.device), torch.full_like(labels, self.num_classes), labels)
        return self.embed(labels)
