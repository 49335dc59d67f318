"""A value for guidance and SMC from a reward model and the denoiser: ``v(z_t) = r(x0_hat(z_t)) / alpha``.

``x0_hat`` is the soft clean sequence: the one-hot token where ``z_t`` is unmasked and the denoiser's
probabilities where it is masked. This is the value the DRAKES paper's guidance and SMC/TDS baselines use
with a clean-data reward model (no classifier trained on noisy sequences); it is differentiable in ``z_t``
through the denoiser, as first-order (Taylor) guidance needs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from condiff.core.discrete import LogitsFn, MaskedDiffusion
from condiff.core.discrete.guidance import LogValueFn, as_one_hot, data_log_probs


def denoised_value(
    diffusion: MaskedDiffusion, logits_fn: LogitsFn, reward: Callable[[Tensor], Tensor], alpha: float = 1.0
) -> LogValueFn:
    """``log_value(z_onehot, t) = reward(x0_hat) / alpha`` (module docstring)."""
    if alpha <= 0:
        raise ValueError(f"denoised_value: alpha must be > 0, got {alpha}")
    v = diffusion.vocab_size

    def log_value(z: Tensor, t: Tensor) -> Tensor:
        z = as_one_hot(z, diffusion)
        probs = data_log_probs(diffusion, logits_fn(z, t)).exp()[..., :v]
        masked = z[..., diffusion.mask_index : diffusion.mask_index + 1]
        x0_hat = (1.0 - masked) * z[..., :v] + masked * probs.to(z.dtype)
        return reward(x0_hat).to(torch.float64) / alpha

    return log_value
