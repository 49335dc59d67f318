"""Guidance for masked diffusion: classifier-free guidance and classifier (value) guidance of the denoiser.

Both return a new ``LogitsFn`` usable by :func:`~condiff.core.discrete.sampling.step`, ``sample``, ``relaxed_step``
and the SMC samplers; only the data-token logits matter (the mask logit is ``-inf`` under the substitution
parameterization, eq. D3).

* CFG (Schiff et al. 2024, "Simple Guidance Mechanisms for Discrete Diffusion Models", eq. 9):
  ``log x_w = (1 + w) log x_cond - w log x_uncond`` over the data tokens, renormalised; ``w = 0`` is the
  conditional model.
* Classifier / value guidance (Nisonoff et al. 2024, "Unlocking Guidance for Discrete State-Space Diffusion
  and Flow Models"): for a masked position ``l`` and token ``v``, with ``z^{l<-v}`` the state with that
  position set to ``v``,

      log x_guided[l, v] = log x[l, v] + gamma * log_value(z^{l<-v}, t)        (exact: B L V value calls)
      log x_guided[l, v] = log x[l, v] + gamma * d log_value(z, t) / d z[l, v]   (first-order Taylor, one call)

  ``log_value(z_onehot, t) -> (B,)`` is a log classifier ``log p(y | z_t)`` or a soft value
  ``log E[exp(r(x_0) / alpha) | z_t]``; it takes the one-hot state ``(B, L, V+1)`` so that the Taylor form
  can differentiate it. For a value linear in the one-hot state the two forms coincide.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from condiff.core.discrete.masking import LogitsFn, MaskedDiffusion

__all__ = ["LogValueFn", "as_one_hot", "cfg_logits_fn", "classifier_guided_logits_fn", "data_log_probs"]

LogValueFn = Callable[[Tensor, Tensor], Tensor]
"""``(z_onehot (B, L, V+1) float, t (B,)) -> (B,)`` log value / log classifier probability of a state."""


def as_one_hot(z: Tensor, diffusion: MaskedDiffusion, dtype: torch.dtype = torch.float32) -> Tensor:
    """Token ids ``(B, L)`` -> one-hot ``(B, L, V+1)``; a float state is returned unchanged."""
    if z.is_floating_point():
        return z
    return torch.nn.functional.one_hot(z, diffusion.vocab_size + 1).to(dtype)


def data_log_probs(diffusion: MaskedDiffusion, logits: Tensor) -> Tensor:
    """``log softmax`` over the ``V`` data tokens, with ``-inf`` in the mask column: ``(B, L, V+1)``."""
    v = diffusion.vocab_size
    logp = torch.log_softmax(logits[..., :v].float(), dim=-1)
    return torch.cat([logp, torch.full_like(logp[..., :1], -torch.inf)], dim=-1)


def cfg_logits_fn(diffusion: MaskedDiffusion, conditional: LogitsFn, unconditional: LogitsFn, scale: float) -> LogitsFn:
    """Classifier-free guidance ``(1 + w) log x_cond - w log x_uncond`` (module docstring); 2 calls per step."""

    def guided(z: Tensor, t: Tensor) -> Tensor:
        cond = data_log_probs(diffusion, conditional(z, t))
        if scale == 0:
            return cond
        uncond = data_log_probs(diffusion, unconditional(z, t))
        v = diffusion.vocab_size
        # log-probabilities clamped at -1e4 so that a token impossible under one model gives no inf - inf
        mixed = (1.0 + scale) * cond[..., :v].clamp_min(-1e4) - scale * uncond[..., :v].clamp_min(-1e4)
        return data_log_probs(diffusion, torch.cat([mixed, cond[..., v:]], dim=-1))

    return guided


def classifier_guided_logits_fn(
    diffusion: MaskedDiffusion,
    logits_fn: LogitsFn,
    log_value: LogValueFn,
    scale: float = 1.0,
    *,
    exact: bool = False,
) -> LogitsFn:
    """Value-guided denoiser logits (module docstring): exact single-token enumeration or first-order Taylor.

    The returned function takes token ids ``(B, L)``; ``exact=True`` evaluates ``log_value`` on the
    ``B * L * V`` single-token completions (small ``L V`` only), the Taylor form differentiates it once.
    """

    def guided(z: Tensor, t: Tensor) -> Tensor:
        if z.is_floating_point():
            raise ValueError("classifier guidance takes token ids (B, L); relax the guided sampler instead")
        logp = data_log_probs(diffusion, logits_fn(z, t))
        if scale == 0:
            return logp
        v, (b, length) = diffusion.vocab_size, z.shape
        if exact:
            cand = z[:, None, None, :].expand(b, length, v, length).clone()  # (B, L, V, L): position l set to v
            pos = torch.arange(length, device=z.device)
            cand[:, pos, :, pos] = torch.arange(v, device=z.device)[None, None, :].expand(length, b, v)
            tt = t[:, None, None].expand(b, length, v).reshape(-1)
            with torch.no_grad():
                val = log_value(as_one_hot(cand.reshape(-1, length), diffusion), tt).reshape(b, length, v)
        else:
            with torch.enable_grad():
                soft = as_one_hot(z, diffusion).detach().requires_grad_(True)
                (grad,) = torch.autograd.grad(log_value(soft, t).sum(), soft)
            val = grad[..., :v]
        shifted = logp[..., :v] + scale * val.to(logp.dtype)
        return data_log_probs(diffusion, torch.cat([shifted, logp[..., v:]], dim=-1))

    return guided
