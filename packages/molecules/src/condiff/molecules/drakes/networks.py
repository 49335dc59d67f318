"""Sequence networks of DRAKES' tasks: the dilated-CNN masked-diffusion denoiser and a CNN reward regressor.

Both take one-hot floats (so that relaxed trajectories and the straight-through output flow through them) or
token ids, which they one-hot encode.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _one_hot(z: Tensor, width: int) -> Tensor:
    return z if z.is_floating_point() else nn.functional.one_hot(z, width).float()


class _DilatedBlock(nn.Module):
    def __init__(self, channels: int, dilation: int, kernel: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(1, channels)
        self.conv = nn.Conv1d(channels, channels, kernel, padding=dilation * (kernel - 1) // 2, dilation=dilation)
        self.mix = nn.Conv1d(channels, channels, 1)

    def forward(self, h: Tensor) -> Tensor:
        return h + self.mix(nn.functional.gelu(self.conv(nn.functional.gelu(self.norm(h)))))


class DilatedCNNDenoiser(nn.Module):
    """MDLM denoiser ``(z (B, L) ids or (B, L, V+1) one-hot, t) -> (B, L, V+1)`` logits, time-independent.

    A linear embedding of the one-hot input, residual blocks of dilated convolutions (dilations cycling through
    ``dilations``; receptive field ``1 + (kernel - 1) * sum dilations * repeats``), a 1x1 output head. With
    ``num_classes > 0`` a class label (``label (B,)``, ``None`` or ``-1`` = unconditional, the null class of
    classifier-free guidance) adds a learned embedding to every position.
    """

    def __init__(
        self,
        vocab_size: int,
        channels: int = 128,
        kernel: int = 5,
        dilations: tuple[int, ...] = (1, 2, 4, 8),
        repeats: int = 2,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        self.width, self.num_classes = vocab_size + 1, int(num_classes)
        self.embed = nn.Conv1d(self.width, channels, 1)
        self.label_embed = nn.Embedding(num_classes + 1, channels) if num_classes > 0 else None
        self.blocks = nn.Sequential(*[_DilatedBlock(channels, d, kernel) for _ in range(repeats) for d in dilations])
        self.out = nn.Conv1d(channels, self.width, 1)

    def forward(self, z: Tensor, t: Tensor, label: Tensor | None = None) -> Tensor:
        h = self.embed(_one_hot(z, self.width).transpose(1, 2))
        if self.label_embed is not None:
            if label is None:
                label = torch.full((h.shape[0],), -1, dtype=torch.long, device=h.device)
            index = torch.where(label < 0, torch.full_like(label, self.num_classes), label)  # null class last
            h = h + self.label_embed(index)[:, :, None]
        elif label is not None:
            raise ValueError("DilatedCNNDenoiser: a label was given to a network built with num_classes=0")
        return self.out(nn.functional.gelu(self.blocks(h))).transpose(1, 2)


class CNNRegressor(nn.Module):
    """Reward model ``x (B, L, V) one-hot (or ids) -> (B,)``: convolutions, global max and mean pooling, MLP."""

    def __init__(self, vocab_size: int, channels: int = 64, kernel: int = 9, layers: int = 2) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        convs: list[nn.Module] = []
        width = vocab_size
        for _ in range(layers):
            convs += [nn.Conv1d(width, channels, kernel, padding=kernel // 2), nn.GELU()]
            width = channels
        self.convs = nn.Sequential(*convs)
        self.head = nn.Sequential(nn.Linear(2 * channels, channels), nn.GELU(), nn.Linear(channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        h = self.convs(_one_hot(x, self.vocab_size)[..., : self.vocab_size].transpose(1, 2))
        return self.head(torch.cat([h.amax(-1), h.mean(-1)], -1)).squeeze(-1)
