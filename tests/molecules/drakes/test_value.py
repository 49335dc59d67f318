"""The denoised value: r(x0_hat(z)) / alpha, with x0_hat the clean tokens where unmasked and the denoiser's
probabilities where masked; differentiable in z."""

from __future__ import annotations

import torch

from condiff.core.discrete import LogLinearSchedule, MaskedDiffusion
from condiff.molecules.drakes.value import denoised_value


def test_denoised_value_is_the_reward_of_the_soft_clean_sequence() -> None:
    diffusion = MaskedDiffusion(3, LogLinearSchedule())
    table = torch.tensor([[2.0, 0.0, -1.0, 7.0], [0.5, 1.5, 0.0, 7.0]])  # logits per position (mask logit ignored)

    def logits_fn(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return table.expand(z.shape[0], 2, 4)

    weights = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]])

    def reward(x: torch.Tensor) -> torch.Tensor:
        return (x * weights).sum((-1, -2))

    value = denoised_value(diffusion, logits_fn, reward, alpha=0.5)
    z = torch.nn.functional.one_hot(torch.tensor([[1, 3], [3, 3], [0, 2]]), 4).float().requires_grad_(True)
    got = value(z, torch.full((3,), 0.5))
    probs = torch.softmax(table[:, :3], -1)
    expected = torch.stack([
        weights[0, 1] + (probs[1] * weights[1]).sum(),
        (probs * weights).sum(),
        weights[0, 0] + weights[1, 2],
    ]) / 0.5  # fmt: skip
    torch.testing.assert_close(got, expected.double(), rtol=1e-6, atol=1e-6)
    got.sum().backward()
    assert z.grad is not None
    assert z.grad.abs().sum() > 0
