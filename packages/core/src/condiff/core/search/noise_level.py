"""The noise-level classifier of Denoising MCMC (Kim & Ye 2022): ``p(t | x)`` over a grid of levels.

DLG's ``t``-step is a Gibbs step on the joint ``p(x, t) = pi(t) p_t(x)`` over a grid ``t_1 < ... < t_K``:

    p(t_k | x) = pi_k p_{t_k}(x) / sum_j pi_j p_{t_j}(x).

A classifier trained with cross-entropy on ``(x_t, k)``, ``k ~ pi``, ``x_t ~ p(x_t | x0)`` at ``t_k``
(:func:`noise_level_loss`) estimates exactly that conditional; :func:`analytic_level_posterior` gives it in
closed form for a Gaussian mixture (the reference of the tests). :meth:`NoiseLevelClassifier.noise_level`
turns a classifier into the ``noise_level(x, x0_hat)`` argument of
:func:`~condiff.core.search.mcmc.denoising_mcmc`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from condiff.core.analytic import GaussianMixture
from condiff.core.processes.base import GaussianProcess


def _levels_and_prior(levels: Sequence[float] | Tensor, prior: Tensor | None) -> tuple[Tensor, Tensor]:
    grid = torch.as_tensor(levels, dtype=torch.float64).flatten()
    if grid.numel() < 2 or bool((grid[1:] <= grid[:-1]).any()):
        raise ValueError(f"noise levels must be >= 2 increasing values, got {grid.tolist()}")
    pi = torch.full_like(grid, 1.0 / grid.numel()) if prior is None else torch.as_tensor(prior, dtype=torch.float64)
    if pi.shape != grid.shape or bool((pi <= 0).any()):
        raise ValueError(f"level prior must be {grid.numel()} positive weights, got {pi.tolist()}")
    return grid, pi / pi.sum()


class NoiseLevelClassifier(nn.Module):
    """``network(x) -> logits (B, K)`` over the levels ``levels: (K,)`` with level prior ``prior`` (default uniform).

    The logits are trained as ``log p(t_k | x)`` up to a constant (:func:`noise_level_loss` draws ``k`` from
    the prior, so the prior is part of what they learn).
    """

    levels: Tensor
    prior: Tensor

    def __init__(self, network: nn.Module, levels: Sequence[float] | Tensor, prior: Tensor | None = None) -> None:
        super().__init__()
        grid, pi = _levels_and_prior(levels, prior)
        self.network = network
        self.register_buffer("levels", grid)
        self.register_buffer("prior", pi)

    @property
    def num_levels(self) -> int:
        return int(self.levels.numel())

    def forward(self, x: Tensor) -> Tensor:
        logits = self.network(x)
        if logits.shape != (x.shape[0], self.num_levels):
            raise ValueError(
                f"NoiseLevelClassifier: the network must return ({x.shape[0]}, {self.num_levels}) logits, "
                f"got {tuple(logits.shape)}"
            )
        return logits

    @torch.no_grad()
    def posterior(self, x: Tensor) -> Tensor:
        """``p(t_k | x)``: ``(B, K)``, rows summing to one."""
        return torch.softmax(self(x).double(), dim=-1)

    @torch.no_grad()
    def draw(self, x: Tensor, generator: torch.Generator | None = None, mode: str = "sample") -> Tensor:
        """Levels ``(B,)`` (float64): drawn from ``p(t | x)`` (DLG's Gibbs step), its ``"mean"`` or ``"mode"``."""
        p = self.posterior(x)
        levels = self.levels.to(p.device)
        if mode == "sample":
            k = torch.multinomial(p.cpu(), 1, generator=generator).squeeze(1).to(p.device)
            return levels[k]
        if mode == "mean":
            return p @ levels
        if mode == "mode":
            return levels[p.argmax(-1)]
        raise ValueError(f"NoiseLevelClassifier.draw: mode must be 'sample', 'mean' or 'mode', got {mode!r}")

    def noise_level(
        self, generator: torch.Generator | None = None, mode: str = "sample"
    ) -> Callable[[Tensor, Tensor], Tensor]:
        """The ``noise_level(x, x0_hat) -> t`` callable of :func:`denoising_mcmc` (``x0_hat`` unused)."""
        return lambda x, _x0: self.draw(x, generator, mode)


def noise_level_loss(
    classifier: NoiseLevelClassifier,
    process: GaussianProcess,
    x0: Tensor,
    y: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Cross-entropy of the level ``k ~ prior`` of ``x_t ~ p(x_t | x0, y)`` at ``t_k`` (mean over the batch)."""
    b = x0.shape[0]
    k = torch.multinomial(classifier.prior.cpu().float(), b, replacement=True, generator=generator).to(x0.device)
    t = classifier.levels.to(x0.device)[k]
    x_t, _ = process.marginal_sample(x0, t, y=y, generator=generator)
    return F.cross_entropy(classifier(x_t.to(x0.dtype)), k)


def analytic_level_posterior(
    mixture: GaussianMixture,
    process: GaussianProcess,
    x: Tensor,
    levels: Sequence[float] | Tensor,
    prior: Tensor | None = None,
    y: Tensor | None = None,
) -> Tensor:
    """Exact ``p(t_k | x) = pi_k p_{t_k}(x) / sum_j pi_j p_{t_j}(x)`` of a Gaussian mixture: ``(B, K)`` float64."""
    grid, pi = _levels_and_prior(levels, prior)
    logp = torch.stack([mixture.log_density(x, float(t), process, y) for t in grid], dim=-1)
    return torch.softmax(logp + pi.log().to(logp.device), dim=-1)


class NoiseLevelModule(L.LightningModule):
    """Lightning training of a :class:`NoiseLevelClassifier` on the batches of any condiff data module
    (``batch["x0"]``, optional ``batch["y"]``) with :func:`noise_level_loss` and AdamW."""

    def __init__(
        self,
        classifier: NoiseLevelClassifier,
        process: GaussianProcess,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__()
        self.classifier, self.process = classifier, process
        self.lr, self.weight_decay = float(lr), float(weight_decay)

    def training_step(self, batch: Mapping[str, Any], batch_idx: int) -> Tensor:
        x0 = batch["x0"]
        loss = noise_level_loss(self.classifier, self.process, x0, batch.get("y"))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"noise-level classifier loss is {loss.item()} at step {self.global_step}")
        self.log("train/level_ce", loss, prog_bar=True, batch_size=x0.shape[0])
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.classifier.parameters(), lr=self.lr, weight_decay=self.weight_decay)
