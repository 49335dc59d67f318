"""Helpers: a tiny masked-diffusion world with an exactly known data law: V = 3 tokens (+ mask), length L = 2."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch


@dataclass
class ToyLaw:
    """A law ``p`` over all ``V^L`` sequences and its exact MDLM denoiser ``p(x^l | unmasked tokens of z)``."""

    vocab_size: int
    length: int
    probs: torch.Tensor  # (V^L,) float64
    sequences: torch.Tensor  # (V^L, L) long, row i has probability probs[i]

    def logits_fn(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Exact posterior marginal of each position given the unmasked ones (independent of ``t``)."""
        mask = self.vocab_size
        consistent = ((z.unsqueeze(1) == self.sequences) | (z.unsqueeze(1) == mask)).all(-1)  # (B, N)
        weights = consistent.to(torch.float64) * self.probs  # (B, N)
        onehot = torch.nn.functional.one_hot(self.sequences, self.vocab_size + 1).to(torch.float64)  # (N, L, V+1)
        marginal = torch.einsum("bn,nlv->blv", weights, onehot)
        return torch.log(marginal / marginal.sum(-1, keepdim=True))


def make_law(vocab_size: int, length: int, seed: int) -> ToyLaw:
    gen = torch.Generator().manual_seed(seed)
    sequences = torch.tensor(list(itertools.product(range(vocab_size), repeat=length)), dtype=torch.long)
    # Exponential draws normalized: a Dirichlet(1, ..., 1) law, drawn with an explicit generator.
    raw = -torch.log(torch.rand(len(sequences), generator=gen, dtype=torch.float64))
    probs = raw / raw.sum()
    return ToyLaw(vocab_size, length, probs, sequences)
