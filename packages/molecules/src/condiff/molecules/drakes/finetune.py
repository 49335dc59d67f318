"""DRAKES (Wang et al. 2024, "Fine-Tuning Discrete Diffusion Models via Reward Optimization with Applications
to DNA and Protein Design", Alg. 1): reward fine-tuning of a masked diffusion model by backpropagating the
reward through its Gumbel-softmax relaxed sampling trajectory.

Objective per trajectory ``z_1 -> ... -> z_0`` drawn from the fine-tuned model ``theta`` (relaxed, eq. D7):

    loss = -r(z_0) + alpha * sum_steps sum_l z_t[l, m] (a_s - a_t) / (1 - a_t) KL(x_theta(z_t)[l] || x_pre(z_t)[l])

The KL term is the exact KL between the fine-tuned and the pretrained reverse transitions of eq. D6 (their
"stay masked" parts are equal and cancel), summed over the whole trajectory: its minimiser is the tilted law
``p_pre(x) exp(r(x) / alpha)``. ``z_0`` enters the reward as the straight-through one-hot sequence.
Truncation: the gradient flows through the last ``truncate`` steps only (earlier steps run without autograd;
their KL is still summed for reporting). Gradient checkpointing recomputes each differentiated step in the
backward pass, with the Gumbel noise drawn once beforehand so the recomputation is identical.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from condiff.core.discrete import LogitsFn, MaskedDiffusion, one_hot, relaxed_step, straight_through, time_grid
from condiff.core.discrete.sampling import gumbel

__all__ = ["DrakesLoss", "drakes_loss", "transition_kl"]

DifferentiableReward = Callable[[Tensor], Tensor]
"""``reward(x (B, L, V) one-hot float) -> (B,)``, differentiable in ``x``: the fine-tuning oracle."""


@dataclass
class DrakesLoss:
    """``loss`` (scalar, to minimise), per-sequence ``reward (B,)`` and trajectory ``kl (B,)`` (detached), and the
    final straight-through one-hot sequences ``x0 (B, L, V)`` (detached)."""

    loss: Tensor
    reward: Tensor
    kl: Tensor
    x0: Tensor


def transition_kl(
    diffusion: MaskedDiffusion, logits_ft: Tensor, logits_pre: Tensor, z_t: Tensor, t: float, s: float
) -> Tensor:
    """``sum_l z_t[l, m] (a_s - a_t)/(1 - a_t) KL(x_ft[l] || x_pre[l])``: KL of the reverse transitions, ``(B,)``."""
    v = diffusion.vocab_size
    a_t = float(diffusion.schedule.alpha(torch.tensor(t, dtype=torch.float64)))
    a_s = float(diffusion.schedule.alpha(torch.tensor(s, dtype=torch.float64)))
    log_ft = torch.log_softmax(logits_ft[..., :v].float(), -1)
    log_pre = torch.log_softmax(logits_pre[..., :v].float(), -1)
    kl = (log_ft.exp() * (log_ft - log_pre)).sum(-1)  # (B, L)
    weight = (a_s - a_t) / (1.0 - a_t)
    return weight * (z_t[..., diffusion.mask_index].float() * kl).sum(-1)


def drakes_loss(
    diffusion: MaskedDiffusion,
    finetuned: LogitsFn,
    pretrained: LogitsFn,
    reward: DifferentiableReward,
    shape: tuple[int, int],
    *,
    steps: int,
    alpha: float,
    temperature: float = 1.0,
    truncate: int | None = None,
    use_checkpoint: bool = True,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> DrakesLoss:
    """The DRAKES loss of ``B`` relaxed trajectories of ``steps`` steps (module docstring).

    Args:
        finetuned, pretrained: ``(z (B, L, V+1) float, t (B,)) -> (B, L, V+1)`` logits (the pretrained one frozen).
        reward: the differentiable fine-tuning oracle on ``(B, L, V)`` one-hot sequences.
        alpha: KL weight (the paper's alpha; larger stays closer to the pretrained model).
        truncate: differentiate only the last ``truncate`` steps (``None``: all).
    """
    if alpha < 0 or steps < 1 or (truncate is not None and truncate < 1):
        raise ValueError(f"drakes_loss: need alpha >= 0, steps >= 1, truncate >= 1; got {alpha}, {steps}, {truncate}")
    b, length = shape
    width = diffusion.vocab_size + 1
    z = one_hot(torch.full(shape, diffusion.mask_index, dtype=torch.long, device=device), width)
    grid = time_grid(steps)
    first_grad = 0 if truncate is None else max(0, steps - truncate)
    kl_total = torch.zeros(b, device=device)
    kl_detached = torch.zeros(b, device=device)

    def one_step(z_t: Tensor, noise: Tensor, t: float, s: float) -> tuple[Tensor, Tensor]:
        t_vec = torch.full((b,), t, device=z_t.device)
        with torch.no_grad():
            logits_pre = pretrained(z_t, t_vec)
        logits_ft = finetuned(z_t, t_vec)
        kl = transition_kl(diffusion, logits_ft, logits_pre, z_t, t, s)
        z_s = relaxed_step(diffusion, lambda _z, _t: logits_ft, z_t, t, s, temperature, noise=noise)
        return z_s, kl

    for i, (t, s) in enumerate(itertools.pairwise(grid)):
        noise = gumbel((b, length, width), generator, z.device)
        if i < first_grad:
            with torch.no_grad():
                z, kl = one_step(z, noise, t, s)
            kl_detached = kl_detached + kl
        elif use_checkpoint:
            z, kl = checkpoint(one_step, z, noise, t, s, use_reentrant=False)
            kl_total = kl_total + kl
        else:
            z, kl = one_step(z, noise, t, s)
            kl_total = kl_total + kl
    x0 = straight_through(z)[..., : diffusion.vocab_size]
    r = reward(x0)
    loss = (-r + alpha * kl_total).mean()
    return DrakesLoss(loss=loss, reward=r.detach(), kl=(kl_total + kl_detached).detach(), x0=x0.detach())
