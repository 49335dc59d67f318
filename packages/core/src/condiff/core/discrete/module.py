"""Lightning training of a masked-diffusion denoiser with the continuous-time NELBO (eq. D4)."""

from __future__ import annotations

import copy
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from condiff.core.discrete.masking import MaskedDiffusion
from condiff.core.training.ema import ema_update_

__all__ = ["MaskedDiffusionModule"]


class MaskedDiffusionModule(L.LightningModule):
    """Trains ``network(z_t, t) -> (B, L, V+1)`` logits on batches ``{"x0": (B, L) token ids}`` or
    ``(tokens,)`` / ``(tokens, labels)`` tuples; labels go to ``network(z_t, t, label=...)``, replaced by the null
    label ``-1`` with probability ``label_dropout`` (classifier-free guidance training).

    Loss: the mean per-sequence NELBO of :meth:`MaskedDiffusion.loss` (nats); an EMA copy ``ema_network``
    (decay ``ema_decay``, 0 = off) is what sampling should use.
    """

    def __init__(
        self, network: nn.Module, diffusion: MaskedDiffusion, lr: float = 1e-3, weight_decay: float = 0.0,
        ema_decay: float = 0.999, label_dropout: float = 0.1,
    ) -> None:  # fmt: skip
        super().__init__()
        self.network, self.diffusion = network, diffusion
        self.ema_network = copy.deepcopy(network).requires_grad_(False)
        self.lr, self.weight_decay, self.ema_decay = float(lr), float(weight_decay), float(ema_decay)
        self.label_dropout = float(label_dropout)

    @property
    def export_network(self) -> nn.Module:
        """The weights ``condiff-train`` exports (``task.module`` route): the EMA network."""
        return self.ema_network

    @staticmethod
    def _unpack(batch: Any) -> tuple[Tensor, Tensor | None]:
        if isinstance(batch, dict):
            return batch["x0"], batch.get("label")
        if isinstance(batch, (list, tuple)):
            return batch[0], (batch[1] if len(batch) > 1 else None)
        return batch, None

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        x, label = self._unpack(batch)
        self.diffusion.check_tokens(x)
        if label is None:
            loss = self.diffusion.loss(self.network, x).mean()
        else:
            drop = torch.rand(label.shape[0], device=label.device) < self.label_dropout
            label = torch.where(drop, torch.full_like(label, -1), label.long())
            loss = self.diffusion.loss(lambda z, t: self.network(z, t, label=label), x).mean()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"masked-diffusion loss is {loss.item()} at step {self.global_step}")
        self.log("train/nelbo", loss, prog_bar=True, batch_size=x.shape[0])
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> Tensor:
        """Held-out NELBO of the EMA network, unconditional (null label), with noise fixed per batch index."""
        x, label = self._unpack(batch)
        self.diffusion.check_tokens(x)
        gen = torch.Generator(device=x.device).manual_seed(batch_idx)
        if label is None:
            loss = self.diffusion.loss(self.ema_network, x, gen).mean()
        else:
            null = torch.full_like(label.long(), -1)
            loss = self.diffusion.loss(lambda z, t: self.ema_network(z, t, label=null), x, gen).mean()
        self.log("val/nelbo", loss, prog_bar=True, batch_size=x.shape[0])
        return loss

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        super().optimizer_step(*args, **kwargs)
        ema_update_(self.ema_network, self.network, self.ema_decay)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.network.parameters(), lr=self.lr, weight_decay=self.weight_decay)
