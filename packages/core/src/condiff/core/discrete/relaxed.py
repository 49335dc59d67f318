"""Differentiable sampling of masked diffusion: Gumbel-softmax relaxed reverse steps and a straight-through output.

The state is a one-hot (or relaxed one-hot) tensor ``(B, L, V+1)``. A relaxed step (eq. D7, as in DRAKES,
Wang et al. 2024, Alg. 1) draws ``y = softmax((log q + g) / tau)`` from the transition probabilities ``q`` of
eq. D6 and mixes ``z_s = (1 - z_t[m]) z_t + z_t[m] y``: carried-over tokens keep their (soft) value.
"""

from __future__ import annotations

import itertools

import torch

from condiff.core.discrete.masking import LogitsFn, MaskedDiffusion
from condiff.core.discrete.sampling import gumbel, time_grid, transition_log_probs

__all__ = ["one_hot", "relaxed_sample", "relaxed_step", "straight_through"]


def one_hot(tokens: torch.Tensor, num_classes: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``(B, L)`` token ids -> ``(B, L, num_classes)`` one-hot floats."""
    return torch.nn.functional.one_hot(tokens, num_classes).to(dtype)


def straight_through(soft: torch.Tensor) -> torch.Tensor:
    """Hard one-hot of ``argmax soft`` in the forward pass with the gradient of ``soft`` (Bengio et al. 2013)."""
    hard = one_hot(soft.argmax(-1), soft.shape[-1], soft.dtype)
    return hard + (soft - soft.detach())  # exactly one-hot forward: the bracket is exactly 0


def relaxed_step(
    diffusion: MaskedDiffusion,
    logits_fn: LogitsFn,
    z_t: torch.Tensor,
    t: float,
    s: float,
    temperature: float,
    generator: torch.Generator | None = None,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """One Gumbel-softmax relaxed reverse transition ``z_t -> z_s`` (eq. D7), differentiable in the logits.

    Args:
        z_t: ``(B, L, V+1)`` (relaxed) one-hot state; ``z_t[..., m]`` is the mask weight.
        logits_fn: called with the float state ``(B, L, V+1)`` and ``t`` ``(B,)``.
        temperature: Gumbel-softmax temperature ``tau > 0``.
        noise: the ``(B, L, V+1)`` Gumbel noise to use instead of drawing it (a recomputed step, e.g. under
            gradient checkpointing, must see the same noise).
    """
    if temperature <= 0:
        raise ValueError(f"relaxed_step: temperature must be > 0, got {temperature}")
    if z_t.dim() != 3 or z_t.shape[-1] != diffusion.vocab_size + 1:
        raise ValueError(f"z_t: expected (B, L, {diffusion.vocab_size + 1}), got {tuple(z_t.shape)}")
    t_vec = torch.full((z_t.shape[0],), t, device=z_t.device)
    logits = logits_fn(z_t, t_vec).float().clone()
    logits[..., diffusion.mask_index] = -torch.inf
    logq = transition_log_probs(diffusion, torch.log_softmax(logits, -1), t, s)
    g = gumbel(tuple(logq.shape), generator, logq.device) if noise is None else noise.to(logq.device, logq.dtype)
    y = torch.softmax((logq + g) / temperature, dim=-1)
    mask_weight = z_t[..., diffusion.mask_index : diffusion.mask_index + 1]
    return ((1.0 - mask_weight) * z_t + mask_weight * y.to(z_t.dtype)).to(z_t.dtype)


def relaxed_sample(
    diffusion: MaskedDiffusion,
    logits_fn: LogitsFn,
    shape: tuple[int, int],
    *,
    steps: int,
    temperature: float,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Relaxed ancestral sampling from all-mask; returns the straight-through one-hot sequence ``(B, L, V+1)``."""
    z = one_hot(torch.full(shape, diffusion.mask_index, dtype=torch.long, device=device), diffusion.vocab_size + 1)
    grid = time_grid(steps)
    for t, s in itertools.pairwise(grid):
        z = relaxed_step(diffusion, logits_fn, z, t, s, temperature, generator)
    return straight_through(z)
