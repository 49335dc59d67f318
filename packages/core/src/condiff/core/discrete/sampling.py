"""Ancestral sampling of masked diffusion: one reverse transition (``step``) and the sampler that composes it.

Reverse transition from ``t`` to ``s < t`` (MDLM eq. 6 with the substitution parameterization, eq. D6):
an unmasked token stays; a masked token becomes ``v`` with probability ``(alpha_s - alpha_t)/(1 - alpha_t) x_theta[v]``
and stays masked with probability ``(1 - alpha_s)/(1 - alpha_t)``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from condiff.core.discrete.masking import LogitsFn, MaskedDiffusion

__all__ = ["DiscreteSamples", "gumbel", "reverse_transition", "sample", "step", "time_grid"]


@dataclass
class DiscreteSamples:
    """Result of :func:`sample`: ``tokens`` ``(B, L)`` and the number of network evaluations ``nfe``."""

    tokens: torch.Tensor
    nfe: int


def gumbel(
    shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Standard Gumbel noise ``-log(-log u)`` in float64, ``u`` clamped away from 0 and 1."""
    u = torch.rand(shape, generator=generator, dtype=torch.float64, device=device).clamp(1e-20, 1.0 - 1e-12)
    return -torch.log(-torch.log(u))


def transition_log_probs(diffusion: MaskedDiffusion, log_probs: torch.Tensor, t: float, s: float) -> torch.Tensor:
    """Log-probabilities of ``z_s^l`` given a masked ``z_t^l``: eq. D6, ``(B, L, V+1)`` in float64."""
    a_t = float(diffusion.schedule.alpha(torch.tensor(t, dtype=torch.float64)))
    a_s = float(diffusion.schedule.alpha(torch.tensor(s, dtype=torch.float64)))
    if not a_s > a_t or a_t >= 1.0:
        raise ValueError(f"reverse transition needs alpha(s) > alpha(t) and alpha(t) < 1; got t={t}, s={s}")
    logq = log_probs.to(torch.float64) + torch.log(torch.tensor((a_s - a_t) / (1.0 - a_t), dtype=torch.float64))
    stay = (1.0 - a_s) / (1.0 - a_t)
    logq[..., diffusion.mask_index] = torch.log(torch.tensor(stay, dtype=torch.float64)) if stay > 0 else -torch.inf
    return logq


def reverse_transition(
    diffusion: MaskedDiffusion,
    log_probs: torch.Tensor,
    z_t: torch.Tensor,
    t: float,
    s: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw ``z_s ~ p_theta(z_s | z_t)`` (eq. D6) from given substitution log-probabilities ``(B, L, V+1)``.

    Categorical draws use the Gumbel-max trick with one ``(B, L, V+1)`` Gumbel tensor per call.
    """
    logq = transition_log_probs(diffusion, log_probs, t, s)
    drawn = (logq + gumbel(tuple(logq.shape), generator, logq.device)).argmax(-1)
    return torch.where(z_t == diffusion.mask_index, drawn, z_t)


def step(
    diffusion: MaskedDiffusion,
    logits_fn: LogitsFn,
    z_t: torch.Tensor,
    t: float,
    s: float,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One reverse transition ``z_t -> z_s`` (eq. D6), calling the network once.

    Args:
        diffusion: the masked diffusion.
        logits_fn: ``(z_t (B, L) long, t (B,)) -> (B, L, V+1)`` logits.
        z_t: ``(B, L)`` tokens, masked ones equal to ``diffusion.mask_index``.
        t: current time; s: next time, ``0 <= s < t <= 1``.
        generator: random source.
    """
    diffusion.check_tokens(z_t, allow_mask=True, name="z_t")
    t_vec = torch.full((z_t.shape[0],), t, device=z_t.device)
    log_probs = diffusion.log_probs(logits_fn(z_t, t_vec), z_t)
    return reverse_transition(diffusion, log_probs, z_t, t, s, generator)


def time_grid(steps: int, t_max: float = 1.0, t_min: float = 0.0) -> list[float]:
    """Uniform grid ``t_max = t_0 > t_1 > ... > t_steps = t_min``."""
    if steps < 1:
        raise ValueError(f"time_grid: steps must be >= 1, got {steps}")
    return [t_max + (t_min - t_max) * i / steps for i in range(steps + 1)]


@torch.no_grad()
def sample(
    diffusion: MaskedDiffusion,
    logits_fn: LogitsFn,
    shape: tuple[int, int],
    *,
    steps: int,
    generator: torch.Generator | None = None,
    cache: bool = True,
    device: torch.device | str = "cpu",
) -> DiscreteSamples:
    """Ancestral sampling from the all-mask sequence at ``t = 1`` to ``t = 0`` in ``steps`` uniform steps.

    Positions still masked at the last step are filled with the argmax of the denoiser (only possible when
    ``alpha(0) < 1``, e.g. the geometric schedule). With ``cache=True`` the network is not called again when no
    token of the batch changed since its last call (MDLM §4.2): exact for a time-independent denoiser (MDLM's
    choice for masked diffusion), an approximation otherwise. Runs without autograd; see ``relaxed_sample``.

    Args:
        shape: ``(B, L)``.
        steps: number of reverse transitions.
    """
    z = torch.full(shape, diffusion.mask_index, dtype=torch.long, device=device)
    grid = time_grid(steps)
    nfe = 0
    log_probs: torch.Tensor | None = None
    last_input: torch.Tensor | None = None
    for t, s in itertools.pairwise(grid):
        if not cache or log_probs is None or last_input is None or not torch.equal(z, last_input):
            t_vec = torch.full((shape[0],), t, device=z.device)
            log_probs = diffusion.log_probs(logits_fn(z, t_vec), z)
            last_input = z
            nfe += 1
        z = reverse_transition(diffusion, log_probs, z, t, s, generator)
    still_masked = z == diffusion.mask_index
    if still_masked.any():
        final = diffusion.log_probs(logits_fn(z, torch.full((shape[0],), grid[-1], device=z.device)), z).argmax(-1)
        nfe += 1
        z = torch.where(still_masked, final, z)
    return DiscreteSamples(tokens=z, nfe=nfe)
