"""Sequential Monte Carlo for masked diffusion with a reward: SMC (pretrained proposal) and twisted SMC (TDS).

Target: the reward-tilted law ``p*(x) ∝ p(x) exp(r(x) / alpha)``. With a twist ``v(z_t) = log_value(z_t, t)``
approximating ``log E_p[exp(r(x_0) / alpha) | z_t]`` (exact at ``t = 0``: ``v(x) = r(x) / alpha``), each of
``K`` particles per output moves ``z_t -> z_s`` by a proposal ``q`` and is reweighted by

    log w += log p(z_s | z_t) - log q(z_s | z_t) + v(z_s) - v(z_t)

(Wu et al. 2023, "Practical and Asymptotically Exact Conditional Sampling in Diffusion Models", TDS;
the DRAKES paper's SMC and TDS baselines). ``proposal="pretrained"`` is SMC (``q = p``, the weights are the
twist increments); ``proposal="guided"`` is TDS (``q`` = the value-guided transition of
:func:`~condiff.core.discrete.guidance.classifier_guided_logits_fn`). Particles are resampled
(multinomial, within their output's group) when the effective sample size falls below
``resample_threshold * K``; at the end one particle per output is drawn by its weight. With the exact
twist the outputs are exact draws of ``p*`` as ``K`` grows (tested on a law known in closed form).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from torch import Tensor

from condiff.core.discrete.guidance import LogValueFn, as_one_hot, classifier_guided_logits_fn
from condiff.core.discrete.masking import LogitsFn, MaskedDiffusion
from condiff.core.discrete.sampling import gumbel, time_grid, transition_log_probs

__all__ = ["DiscreteSMCResult", "discrete_smc", "transition_log_likelihood"]


@dataclass
class DiscreteSMCResult:
    """``tokens (B, L)`` one draw per output; ``particles (B, K, L)`` and their normalised ``weights (B, K)``;
    ``nfe`` denoiser calls per output (a call on ``K`` particles counts ``K``); ``resamples`` per output."""

    tokens: Tensor
    particles: Tensor
    weights: Tensor
    nfe: int
    resamples: int


def transition_log_likelihood(
    diffusion: MaskedDiffusion, log_probs: Tensor, z_t: Tensor, z_s: Tensor, t: float, s: float
) -> Tensor:
    """``log p(z_s | z_t)`` summed over positions (eq. D6), ``(B,)``; unmasked positions contribute 0."""
    logq = transition_log_probs(diffusion, log_probs, t, s)
    picked = logq.gather(-1, z_s.unsqueeze(-1)).squeeze(-1)
    return torch.where(z_t == diffusion.mask_index, picked, torch.zeros_like(picked)).sum(-1)


def _draw(diffusion: MaskedDiffusion, log_probs: Tensor, z_t: Tensor, t: float, s: float, gen: torch.Generator | None):
    logq = transition_log_probs(diffusion, log_probs, t, s)
    drawn = (logq + gumbel(tuple(logq.shape), gen, logq.device)).argmax(-1)
    return torch.where(z_t == diffusion.mask_index, drawn, z_t)


@torch.no_grad()
def discrete_smc(
    diffusion: MaskedDiffusion,
    logits_fn: LogitsFn,
    log_value: LogValueFn,
    shape: tuple[int, int],
    *,
    particles: int,
    steps: int,
    proposal: str = "pretrained",
    exact_guidance: bool = False,
    resample_threshold: float = 0.5,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> DiscreteSMCResult:
    """SMC / TDS from all-mask at ``t = 1`` to ``t = 0`` in ``steps`` uniform steps (module docstring).

    Args:
        shape: ``(B, L)``, ``B`` outputs.
        particles: ``K`` particles per output.
        proposal: ``"pretrained"`` (SMC) or ``"guided"`` (TDS, Taylor value guidance unless ``exact_guidance``).
    """
    if proposal not in ("pretrained", "guided"):
        raise ValueError(f"discrete_smc: proposal must be 'pretrained' or 'guided', got {proposal!r}")
    if particles < 1 or not 0.0 <= resample_threshold <= 1.0:
        raise ValueError(f"discrete_smc: need particles >= 1 and resample_threshold in [0, 1]; got "
                         f"{particles}, {resample_threshold}")  # fmt: skip
    b, length = shape
    n = b * particles
    guided = (
        classifier_guided_logits_fn(diffusion, logits_fn, log_value, 1.0, exact=exact_guidance)
        if proposal == "guided"
        else None
    )
    z = torch.full((n, length), diffusion.mask_index, dtype=torch.long, device=device)
    log_w = torch.zeros(b, particles, dtype=torch.float64, device=device)
    grid = time_grid(steps)
    t_vec = torch.full((n,), grid[0], device=device)
    v_prev = log_value(as_one_hot(z, diffusion), t_vec).double()
    nfe = resamples = 0
    for t, s in itertools.pairwise(grid):
        t_vec = torch.full((n,), t, device=device)
        log_p = diffusion.log_probs(logits_fn(z, t_vec), z)
        nfe += particles
        if guided is None:
            z_s = _draw(diffusion, log_p, z, t, s, generator)
            log_ratio = torch.zeros(n, dtype=torch.float64, device=device)
        else:
            log_q = diffusion.log_probs(guided(z, t_vec), z)
            nfe += particles
            z_s = _draw(diffusion, log_q, z, t, s, generator)
            log_ratio = (
                transition_log_likelihood(diffusion, log_p, z, z_s, t, s)
                - transition_log_likelihood(diffusion, log_q, z, z_s, t, s)
            ).double()
        v_next = log_value(as_one_hot(z_s, diffusion), torch.full((n,), s, device=device)).double()
        log_w = log_w + (log_ratio + v_next - v_prev).view(b, particles)
        z, v_prev = z_s, v_next
        if s > 0:
            z, v_prev, log_w, did = _maybe_resample(z, v_prev, log_w, resample_threshold, generator)
            resamples += did
    weights = torch.softmax(log_w, dim=-1)
    pick = torch.multinomial(weights.cpu(), 1, generator=generator).squeeze(1).to(z.device)
    parts = z.view(b, particles, length)
    return DiscreteSMCResult(
        tokens=parts[torch.arange(b, device=z.device), pick], particles=parts, weights=weights, nfe=nfe,
        resamples=resamples,
    )  # fmt: skip


def _maybe_resample(
    z: Tensor, v: Tensor, log_w: Tensor, threshold: float, generator: torch.Generator | None
) -> tuple[Tensor, Tensor, Tensor, int]:
    """Multinomial resampling of the groups whose ESS ``1 / sum w^2`` is below ``threshold * K``."""
    b, k = log_w.shape
    w = torch.softmax(log_w, dim=-1)
    low = (1.0 / (w * w).sum(-1)) < threshold * k
    if not bool(low.any()):
        return z, v, log_w, 0
    idx = torch.arange(k, device=z.device).expand(b, k).clone()
    drawn = torch.multinomial(w[low].cpu(), k, replacement=True, generator=generator).to(z.device)
    idx[low] = drawn
    flat = (idx + torch.arange(b, device=z.device)[:, None] * k).reshape(-1)
    log_w = torch.where(low[:, None], torch.zeros_like(log_w), log_w)
    return z[flat], v[flat], log_w, 1
