"""Absorbing-state (masked) diffusion: forward masking, MDLM substitution parameterization, NELBO losses.

Tokens are integers in ``[0, V)``; the mask token is ``m = V``, so a network outputs ``V + 1`` logits per position.
References: MDLM (Sahoo et al. 2024) eqs. 7-11, MD4 (Shi et al. 2024) eq. 4; equation labels D1-D5 are those of
``docs/discrete.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from condiff.core.discrete.schedules import MaskSchedule

__all__ = ["LogitsFn", "MaskedDiffusion"]

LogitsFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``logits_fn(z_t, t) -> logits``: ``z_t`` ``(B, L)`` long (or ``(B, L, V+1)`` one-hot float), ``t`` ``(B,)``;
returns ``(B, L, V+1)`` logits."""


class MaskedDiffusion:
    """Continuous-time masked diffusion over sequences of ``vocab_size`` tokens plus a mask token.

    Args:
        vocab_size: number of data tokens ``V``; the mask token index is ``V``.
        schedule: the masking schedule ``alpha(t)``.
    """

    def __init__(self, vocab_size: int, schedule: MaskSchedule) -> None:
        if vocab_size < 1:
            raise ValueError(f"MaskedDiffusion: vocab_size must be >= 1, got {vocab_size}")
        self.vocab_size = vocab_size
        self.mask_index = vocab_size
        self.schedule = schedule

    def check_tokens(self, x: torch.Tensor, *, allow_mask: bool = False, name: str = "x") -> None:
        """Raise ``ValueError`` unless ``x`` is a ``(B, L)`` integer tensor of valid token ids."""
        if x.dim() != 2 or x.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"{name}: expected a (B, L) integer tensor, got shape {tuple(x.shape)} {x.dtype}")
        high = self.vocab_size + (1 if allow_mask else 0)
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= high):
            raise ValueError(f"{name}: token ids must lie in [0, {high}), found [{int(x.min())}, {int(x.max())}]")

    def forward_mask(self, x: torch.Tensor, t: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Sample ``z_t ~ q(z_t | x) = prod_l Cat(alpha_t e_{x^l} + (1 - alpha_t) e_m)`` (eq. D1).

        Args:
            x: ``(B, L)`` clean tokens.
            t: ``(B,)`` times in ``[0, 1]``.
        """
        self.check_tokens(x)
        alpha = self.schedule.alpha(t.to(torch.float64)).view(-1, 1)
        u = torch.rand(x.shape, generator=generator, dtype=torch.float64, device=x.device)
        return torch.where(u < alpha, x, torch.full_like(x, self.mask_index))

    def log_probs(self, logits: torch.Tensor, z_t: torch.Tensor) -> torch.Tensor:
        """MDLM substitution parameterization (eq. D3): ``log x_theta(z_t, t)``, ``(B, L, V+1)``.

        Zero masking: the mask logit is set to ``-inf`` before the softmax. Carry-over unmasking: at an unmasked
        position the distribution is the point mass on ``z_t^l``.
        """
        if logits.shape[-1] != self.vocab_size + 1 or logits.shape[:-1] != z_t.shape:
            raise ValueError(f"logits: expected shape {(*z_t.shape, self.vocab_size + 1)}, got {tuple(logits.shape)}")
        logits = logits.float().clone()
        logits[..., self.mask_index] = -torch.inf
        logp = torch.log_softmax(logits, dim=-1)
        carried = torch.full_like(logp, -torch.inf).scatter(-1, z_t.unsqueeze(-1), 0.0)
        unmasked = (z_t != self.mask_index).unsqueeze(-1)
        return torch.where(unmasked, carried, logp)

    def masked_log_likelihood(self, log_probs: torch.Tensor, x: torch.Tensor, z_t: torch.Tensor) -> torch.Tensor:
        """``sum_{l: z_t^l = m} log x_theta(z_t, t)[x^l]``, one value per sequence ``(B,)``."""
        picked = log_probs.gather(-1, x.unsqueeze(-1)).squeeze(-1)
        masked = z_t == self.mask_index
        return torch.where(masked, picked, torch.zeros_like(picked)).sum(-1)

    def nelbo_integrand(
        self, log_probs: torch.Tensor, x: torch.Tensor, z_t: torch.Tensor, t: torch.Tensor
    ) -> torch.Tensor:
        """Integrand of the continuous-time NELBO (eq. D4): ``alpha'(t)/(1-alpha(t)) sum_masked log p(x^l|z_t)``.

        Both factors are non-positive, so the integrand is ``>= 0``; ``(B,)``.
        """
        weight = self.schedule.weight(t.to(torch.float64)).to(log_probs.dtype)
        return weight * self.masked_log_likelihood(log_probs, x, z_t)

    def sample_times(
        self, batch: int, generator: torch.Generator | None = None, *, antithetic: bool = True
    ) -> torch.Tensor:
        """``t ~ U(0, 1)``, ``(B,)``; antithetic times ``(u + i/B) mod 1`` lower the variance (MDLM §3.5)."""
        if antithetic:
            u = torch.rand((), generator=generator, dtype=torch.float64)
            t = (u + torch.arange(batch, dtype=torch.float64) / batch) % 1.0
        else:
            t = torch.rand(batch, generator=generator, dtype=torch.float64)
        return t.clamp(min=1e-5)

    def loss(self, logits_fn: LogitsFn, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Monte-Carlo continuous-time NELBO per sequence (eq. D4), ``(B,)``; ``.mean()`` is the training loss.

        ``E_t E_{z_t ~ q(.|x)} [alpha'(t)/(1-alpha(t)) sum_{l: z_t^l = m} log x_theta(z_t, t)[x^l]]``.
        """
        t = self.sample_times(x.shape[0], generator).to(x.device)
        z_t = self.forward_mask(x, t, generator)
        log_probs = self.log_probs(logits_fn(z_t, t.float()), z_t)
        return self.nelbo_integrand(log_probs, x, z_t, t)

    def discrete_loss(
        self, logits_fn: LogitsFn, x: torch.Tensor, steps: int, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Monte-Carlo ``T``-step NELBO per sequence (eq. D5), ``(B,)``.

        ``T E_{i ~ U{1..T}} E_{z_t} [(alpha_s - alpha_t)/(1 - alpha_t) sum_masked -log x_theta(z_t, t)[x^l]]``,
        ``t = i/T``, ``s = (i-1)/T``.
        """
        if steps < 1:
            raise ValueError(f"discrete_loss: steps must be >= 1, got {steps}")
        i = torch.randint(1, steps + 1, (x.shape[0],), generator=generator).to(torch.float64)
        t, s = (i / steps).to(x.device), ((i - 1) / steps).to(x.device)
        z_t = self.forward_mask(x, t, generator)
        log_probs = self.log_probs(logits_fn(z_t, t.float()), z_t)
        return steps * self.discrete_term(log_probs, x, z_t, t, s)

    def discrete_term(
        self, log_probs: torch.Tensor, x: torch.Tensor, z_t: torch.Tensor, t: torch.Tensor, s: torch.Tensor
    ) -> torch.Tensor:
        """One KL term of eq. D5: ``(alpha_s - alpha_t)/(1 - alpha_t) sum_masked -log p(x^l|z_t)``, ``(B,)``."""
        a_t, a_s = self.schedule.alpha(t.to(torch.float64)), self.schedule.alpha(s.to(torch.float64))
        weight = ((a_s - a_t) / (1.0 - a_t)).to(log_probs.dtype)
        return -weight * self.masked_log_likelihood(log_probs, x, z_t)
