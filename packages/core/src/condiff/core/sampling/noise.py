"""Gaussian noise for samplers, drawn from one generator or from one generator per sample."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

Generators = torch.Generator | Sequence[torch.Generator] | None


def randn(
    shape: tuple[int, ...] | torch.Size,
    generator: Generators = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Standard normal noise of ``shape``.

    With a sequence of generators (one per sample along dim 0), sample ``i`` is drawn
    from ``generator[i]`` alone, so it does not depend on the batch it is drawn in
    (k-diffusion's and diffusers' per-sample seeds).
    """
    if generator is None or isinstance(generator, torch.Generator):
        return torch.randn(tuple(shape), generator=generator, device=device, dtype=dtype)
    gens = list(generator)
    if len(gens) != shape[0]:
        raise ValueError(f"randn: got {len(gens)} generators for a batch of {shape[0]}")
    return torch.stack([torch.randn(tuple(shape[1:]), generator=g, device=device, dtype=dtype) for g in gens])


def per_sample_generators(seeds: Sequence[int], device: torch.device | str = "cpu") -> list[torch.Generator]:
    """One ``torch.Generator`` per seed (seed ``i`` fixes sample ``i`` whatever the batch)."""
    return [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]
