"""Forward masking, the substitution parameterization and the NELBO as an exact bound on a tiny vocabulary."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from condiff.core.discrete import CosineSchedule, LinearSchedule, LogLinearSchedule, MaskedDiffusion, MaskSchedule
from tests.core.discrete.toy import ToyLaw


def enumerate_terms(law: ToyLaw, times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every (time, mask pattern, sequence) triple at once: ``x``, ``z``, ``t`` flat and the pattern sizes."""
    patterns = torch.tensor(list(itertools.product([False, True], repeat=law.length)))  # (P, L)
    n_t, n_p, n_x = len(times), len(patterns), len(law.sequences)
    x = law.sequences.expand(n_t, n_p, n_x, law.length)
    masked = patterns.view(1, n_p, 1, law.length).expand_as(x)
    z = torch.where(masked, torch.full_like(x, law.vocab_size), x)
    t = times.view(n_t, 1, 1).expand(n_t, n_p, n_x)
    return x.reshape(-1, law.length), z.reshape(-1, law.length), t.reshape(-1), patterns.sum(-1)


def pattern_probs(diffusion: MaskedDiffusion, times: torch.Tensor, sizes: torch.Tensor, length: int) -> torch.Tensor:
    """``q(mask pattern | t)`` of eq. D1, ``(T, P)``."""
    alpha = diffusion.schedule.alpha(times).view(-1, 1)
    return (1 - alpha) ** sizes * alpha ** (length - sizes)


def exact_nelbo(diffusion: MaskedDiffusion, law: ToyLaw, logits_fn, points: int = 48) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """Continuous-time NELBO (eq. D4) of every sequence: Gauss-Legendre in ``t``, masks enumerated exactly."""
    nodes, weights = np.polynomial.legendre.leggauss(points)
    times = torch.as_tensor(0.5 * (nodes + 1.0))
    x, z, t, sizes = enumerate_terms(law, times)
    log_probs = diffusion.log_probs(logits_fn(z, t.float()), z).double()
    integrand = diffusion.nelbo_integrand(log_probs, x, z, t).view(points, len(sizes), -1)
    prob = pattern_probs(diffusion, times, sizes, law.length)
    return torch.einsum("t,tp,tpn->n", 0.5 * torch.as_tensor(weights), prob, integrand)


def exact_discrete_nelbo(diffusion: MaskedDiffusion, law: ToyLaw, logits_fn, steps: int) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """``T``-step NELBO (eq. D5) of every sequence, every term enumerated exactly."""
    times = torch.arange(1, steps + 1, dtype=torch.float64) / steps
    x, z, t, sizes = enumerate_terms(law, times)
    log_probs = diffusion.log_probs(logits_fn(z, t.float()), z).double()
    terms = diffusion.discrete_term(log_probs, x, z, t, t - 1.0 / steps).view(steps, len(sizes), -1)
    return torch.einsum("tp,tpn->n", pattern_probs(diffusion, times, sizes, law.length), terms)


def random_logits(vocab_size: int, seed: int):  # type: ignore[no-untyped-def]
    table = torch.randn(8, vocab_size + 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)

    def logits_fn(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        # A wrong but valid denoiser: depends on the sum of the visible tokens only.
        return table[z.sum(-1) % 8].unsqueeze(1).expand(*z.shape, vocab_size + 1)

    return logits_fn


def test_forward_mask_frequency_is_one_minus_alpha() -> None:
    diffusion = MaskedDiffusion(5, LogLinearSchedule(1e-3))
    x = torch.randint(0, 5, (4000, 16), generator=torch.Generator().manual_seed(0))
    t = torch.full((4000,), 0.3, dtype=torch.float64)
    z = diffusion.forward_mask(x, t, torch.Generator().manual_seed(1))
    masked = z == diffusion.mask_index
    assert torch.equal(z[~masked], x[~masked])
    expected = 1 - float(diffusion.schedule.alpha(t[:1]))
    assert float(masked.double().mean()) == pytest.approx(expected, abs=4 * (expected * (1 - expected) / 64000) ** 0.5)


def test_substitution_zero_masking_and_carry_over() -> None:
    diffusion = MaskedDiffusion(4, LinearSchedule())
    z = torch.tensor([[0, 4, 2, 4]])
    logp = diffusion.log_probs(torch.randn(1, 4, 5, generator=torch.Generator().manual_seed(0)), z)
    assert torch.all(torch.isinf(logp[..., 4]))
    torch.testing.assert_close(logp.exp().sum(-1), torch.ones(1, 4))
    assert float(logp[0, 0, 0]) == 0.0
    assert float(logp[0, 2, 2]) == 0.0
    assert torch.all(torch.isinf(logp[0, 0, 1:]))


def test_bad_shapes_and_tokens_raise() -> None:
    diffusion = MaskedDiffusion(4, LinearSchedule())
    with pytest.raises(ValueError, match=r"logits: expected shape \(1, 2, 5\)"):
        diffusion.log_probs(torch.zeros(1, 2, 4), torch.zeros(1, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=r"x: token ids must lie in \[0, 4\)"):
        diffusion.forward_mask(torch.tensor([[0, 4]]), torch.tensor([0.5]))
    with pytest.raises(ValueError, match="x: expected a"):
        diffusion.forward_mask(torch.zeros(2, 3), torch.tensor([0.5, 0.5]))
    with pytest.raises(ValueError, match="vocab_size"):
        MaskedDiffusion(0, LinearSchedule())


@pytest.mark.parametrize("schedule", [LinearSchedule(), CosineSchedule()], ids=["linear", "cosine"])
def test_exact_denoiser_nelbo_equals_negative_log_likelihood(toy_law: ToyLaw, schedule: MaskSchedule) -> None:
    diffusion = MaskedDiffusion(toy_law.vocab_size, schedule)
    nelbo = exact_nelbo(diffusion, toy_law, toy_law.logits_fn)
    # Linear: the integrand is a polynomial in t, so 64-point Gauss-Legendre is exact up to rounding.
    torch.testing.assert_close(
        nelbo, -toy_law.probs.log(), rtol=0, atol=1e-6 if isinstance(schedule, LinearSchedule) else 1e-4
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nelbo_of_any_denoiser_bounds_the_entropy(toy_law: ToyLaw, seed: int) -> None:
    diffusion = MaskedDiffusion(toy_law.vocab_size, CosineSchedule())
    nelbo = exact_nelbo(diffusion, toy_law, random_logits(toy_law.vocab_size, seed))
    entropy = -(toy_law.probs * toy_law.probs.log()).sum()
    assert float((toy_law.probs * nelbo).sum()) > float(entropy) + 0.05


def test_monte_carlo_loss_is_unbiased(toy_law: ToyLaw) -> None:
    diffusion = MaskedDiffusion(toy_law.vocab_size, LinearSchedule())
    exact = exact_nelbo(diffusion, toy_law, toy_law.logits_fn)
    x = toy_law.sequences.repeat(20000, 1)
    losses = diffusion.loss(toy_law.logits_fn, x, torch.Generator().manual_seed(3)).view(20000, -1).double()
    mean, stderr = losses.mean(0), losses.std(0) / 20000**0.5
    assert torch.all((mean - exact).abs() < 4 * stderr + 1e-9), (mean, exact, stderr)


def test_discrete_time_bound_converges_to_continuous_from_above(toy_law: ToyLaw) -> None:
    diffusion = MaskedDiffusion(toy_law.vocab_size, LinearSchedule())
    entropy = float(-(toy_law.probs * toy_law.probs.log()).sum())
    expected = [
        float((toy_law.probs * exact_discrete_nelbo(diffusion, toy_law, toy_law.logits_fn, T)).sum())
        for T in (1, 2, 8, 256)
    ]
    assert all(a > b for a, b in itertools.pairwise(expected))
    assert expected[-1] - entropy == pytest.approx(0.0, abs=5e-3)
    assert expected[-1] > entropy


def test_discrete_monte_carlo_loss_matches_enumeration(toy_law: ToyLaw) -> None:
    diffusion = MaskedDiffusion(toy_law.vocab_size, CosineSchedule())
    exact = exact_discrete_nelbo(diffusion, toy_law, toy_law.logits_fn, 4)
    x = toy_law.sequences.repeat(20000, 1)
    losses = diffusion.discrete_loss(toy_law.logits_fn, x, 4, torch.Generator().manual_seed(5)).view(20000, -1).double()
    mean, stderr = losses.mean(0), losses.std(0) / 20000**0.5
    assert torch.all((mean - exact).abs() < 4 * stderr + 1e-9), (mean, exact, stderr)
