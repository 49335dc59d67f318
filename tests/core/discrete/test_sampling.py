"""Ancestral sampling: the step API composes to the sampler, caching, and the exact denoiser reproduces the data."""

from __future__ import annotations

import itertools

import pytest
import torch

from condiff.core.discrete import (
    CosineSchedule,
    GeometricSchedule,
    LinearSchedule,
    LogLinearSchedule,
    MaskedDiffusion,
    sample,
    step,
    time_grid,
)
from tests.core.discrete.toy import ToyLaw


def empirical_law(tokens: torch.Tensor, law: ToyLaw) -> torch.Tensor:
    index = (tokens * law.vocab_size ** torch.arange(law.length - 1, -1, -1)).sum(-1)
    return torch.bincount(index, minlength=len(law.sequences)).double() / len(tokens)


@pytest.mark.parametrize("cache", [False, True])
def test_composed_steps_equal_sampler_for_same_seed(toy_law: ToyLaw, cache: bool) -> None:
    diffusion = MaskedDiffusion(toy_law.vocab_size, LogLinearSchedule(1e-3))
    samples = sample(
        diffusion, toy_law.logits_fn, (64, 2), steps=16, generator=torch.Generator().manual_seed(7), cache=cache
    )
    generator = torch.Generator().manual_seed(7)
    z = torch.full((64, 2), diffusion.mask_index)
    for t, s in itertools.pairwise(time_grid(16)):
        z = step(diffusion, toy_law.logits_fn, z, t, s, generator)
    assert torch.equal(samples.tokens, z)
    assert not bool((z == diffusion.mask_index).any())


def test_cache_skips_the_network_when_nothing_changed(toy_law: ToyLaw) -> None:
    diffusion = MaskedDiffusion(toy_law.vocab_size, LinearSchedule())
    calls = []

    def counted(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        calls.append(1)
        return toy_law.logits_fn(z, t)

    cached = sample(diffusion, counted, (4, 2), steps=100, generator=torch.Generator().manual_seed(0))
    # A batch of 4 sequences of length 2 changes at most 8 times, so at most 9 distinct network inputs.
    assert cached.nfe == len(calls) <= 9
    plain = sample(diffusion, counted, (4, 2), steps=100, generator=torch.Generator().manual_seed(0), cache=False)
    assert plain.nfe == 100
    assert torch.equal(cached.tokens, plain.tokens)


@pytest.mark.parametrize("schedule", [LinearSchedule(), CosineSchedule()], ids=["linear", "cosine"])
def test_exact_denoiser_samples_reproduce_the_data_law(toy_law: ToyLaw, schedule) -> None:  # type: ignore[no-untyped-def]
    diffusion = MaskedDiffusion(toy_law.vocab_size, schedule)
    n = 8000
    samples = sample(diffusion, toy_law.logits_fn, (n, 2), steps=48, generator=torch.Generator().manual_seed(1))
    freq = empirical_law(samples.tokens, toy_law)
    tv = 0.5 * float((freq - toy_law.probs).abs().sum())
    chi2 = float((n * (freq - toy_law.probs) ** 2 / toy_law.probs).sum())
    assert tv < 0.03, tv
    assert chi2 < 26.1, chi2  # chi-square(8) 0.999 quantile


def test_one_step_unmasks_positions_independently(toy_law: ToyLaw) -> None:
    """With one step every position is drawn from its marginal at once: the product of the marginals."""
    diffusion = MaskedDiffusion(toy_law.vocab_size, LinearSchedule())
    samples = sample(diffusion, toy_law.logits_fn, (8000, 2), steps=1, generator=torch.Generator().manual_seed(2))
    joint = toy_law.probs.view(toy_law.vocab_size, toy_law.vocab_size)
    product = torch.outer(joint.sum(1), joint.sum(0)).flatten()
    freq = empirical_law(samples.tokens, toy_law)
    assert 0.5 * float((freq - product).abs().sum()) < 0.03
    assert 0.5 * float((product - toy_law.probs).abs().sum()) > 0.1  # the test can tell the two apart


def test_geometric_schedule_leaves_no_mask(toy_law: ToyLaw) -> None:
    diffusion = MaskedDiffusion(toy_law.vocab_size, GeometricSchedule(sigma_min=0.5, sigma_max=20.0))
    samples = sample(diffusion, toy_law.logits_fn, (256, 2), steps=8, generator=torch.Generator().manual_seed(3))
    assert not bool((samples.tokens == diffusion.mask_index).any())


def test_step_rejects_bad_input(toy_law: ToyLaw) -> None:
    diffusion = MaskedDiffusion(toy_law.vocab_size, LinearSchedule())
    with pytest.raises(ValueError, match=r"z_t: token ids must lie in \[0, 4\)"):
        step(diffusion, toy_law.logits_fn, torch.tensor([[5, 0]]), 1.0, 0.5)
    with pytest.raises(ValueError, match="alpha"):
        step(diffusion, toy_law.logits_fn, torch.tensor([[3, 0]]), 0.5, 0.6)
    with pytest.raises(ValueError, match="steps"):
        time_grid(0)
