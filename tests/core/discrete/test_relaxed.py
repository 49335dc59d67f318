"""Gumbel-softmax relaxed sampling: coupling with the hard sampler, straight-through, gradients in the low-tau limit."""

from __future__ import annotations

import itertools

import pytest
import torch

from condiff.core.discrete import (
    LinearSchedule,
    MaskedDiffusion,
    one_hot,
    relaxed_sample,
    relaxed_step,
    step,
    straight_through,
    time_grid,
)

VOCAB, LENGTH = 3, 2


def constant_logits(theta: torch.Tensor):  # type: ignore[no-untyped-def]
    """A denoiser with state-independent logits ``theta`` ``(L, V+1)``: each position is ``softmax(theta)``."""

    def logits_fn(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return theta.expand(z.shape[0], *theta.shape)

    return logits_fn


def test_straight_through_is_one_hot_with_soft_gradient() -> None:
    soft = torch.softmax(torch.randn(5, 3, 4, generator=torch.Generator().manual_seed(0)), -1).requires_grad_()
    hard = straight_through(soft)
    assert torch.equal(hard.detach(), one_hot(soft.argmax(-1), 4))
    weights = torch.randn(5, 3, 4, generator=torch.Generator().manual_seed(1))
    (grad,) = torch.autograd.grad((hard * weights).sum(), soft)
    torch.testing.assert_close(grad, weights)


def test_relaxed_step_argmax_equals_hard_step_for_same_seed() -> None:
    diffusion = MaskedDiffusion(VOCAB, LinearSchedule())
    theta = torch.randn(LENGTH, VOCAB + 1, generator=torch.Generator().manual_seed(0))
    z = torch.tensor([[3, 3], [0, 3], [3, 2]]).repeat(100, 1)
    hard = step(diffusion, constant_logits(theta), z, 0.6, 0.3, torch.Generator().manual_seed(4))
    soft = relaxed_step(
        diffusion, constant_logits(theta), one_hot(z, VOCAB + 1), 0.6, 0.3, 0.5, torch.Generator().manual_seed(4)
    )
    assert torch.equal(straight_through(soft).argmax(-1), hard)
    torch.testing.assert_close(soft.sum(-1), torch.ones(300, LENGTH))


def test_low_temperature_trajectory_follows_hard_sampler() -> None:
    diffusion = MaskedDiffusion(VOCAB, LinearSchedule())
    theta = torch.randn(LENGTH, VOCAB + 1, generator=torch.Generator().manual_seed(1))
    gen_hard, gen_soft = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    z = torch.full((500, LENGTH), VOCAB)
    soft = one_hot(z, VOCAB + 1)
    for t, s in itertools.pairwise(time_grid(8)):
        z = step(diffusion, constant_logits(theta), z, t, s, gen_hard)
        soft = relaxed_step(diffusion, constant_logits(theta), soft, t, s, 0.01, gen_soft)
    assert float((soft.argmax(-1) == z).double().mean()) > 0.97


def exact_expected_reward_grad(theta: torch.Tensor, reward: torch.Tensor, h: float = 1e-5) -> torch.Tensor:
    """Central finite differences of ``E[r] = sum_l softmax(theta_l[:V]) . r_l`` (the exact sampler's law)."""

    def expected(th: torch.Tensor) -> float:
        return float((torch.softmax(th[:, :VOCAB], -1) * reward).sum())

    grad = torch.zeros_like(theta)
    for index in itertools.product(range(theta.shape[0]), range(theta.shape[1])):
        up, down = theta.clone(), theta.clone()
        up[index] += h
        down[index] -= h
        grad[index] = (expected(up) - expected(down)) / (2 * h)
    return grad


def gumbel_softmax_grad(theta: torch.Tensor, reward: torch.Tensor, temperature: float, steps: int) -> torch.Tensor:
    """Pathwise gradient of the mean reward of ``relaxed_sample`` (straight-through output), 200k samples."""
    diffusion = MaskedDiffusion(VOCAB, LinearSchedule())
    theta = theta.clone().requires_grad_()
    x = relaxed_sample(
        diffusion,
        constant_logits(theta),
        (200_000, LENGTH),
        steps=steps,
        temperature=temperature,
        generator=torch.Generator().manual_seed(11),
    )
    value = (x[..., :VOCAB] * reward).sum((-1, -2)).mean()
    (grad,) = torch.autograd.grad(value, theta)
    return grad.double()


@pytest.mark.parametrize("steps", [1, 4])
def test_gumbel_softmax_gradient_matches_finite_differences_at_low_temperature(steps: int) -> None:
    theta = torch.randn(LENGTH, VOCAB + 1, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    reward = torch.randn(LENGTH, VOCAB, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    exact = exact_expected_reward_grad(theta, reward)
    errors = {
        tau: float((gumbel_softmax_grad(theta.float(), reward.float(), tau, steps) - exact).abs().max())
        for tau in (1.0, 0.1)
    }
    print(f"steps={steps} max |gumbel-softmax grad - finite differences|: {errors}")
    assert errors[0.1] < 0.03, errors
    assert errors[0.1] < 0.5 * errors[1.0], errors  # the bias shrinks as tau -> 0
