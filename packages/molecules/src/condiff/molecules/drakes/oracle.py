"""Reward oracles: the fine-tuning oracle is a regressor fit to noisy labels, kept apart from the evaluation
oracle (DRAKES trains against one and reports the other, so that reward hacking of the first shows)."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

__all__ = ["RegressorModule"]


class RegressorModule(L.LightningModule):
    """MSE training of ``regressor(tokens) -> (B,)`` on batches ``(tokens (B, L), labels (B,))``."""

    def __init__(self, regressor: nn.Module, lr: float = 1e-3, weight_decay: float = 1e-4) -> None:
        super().__init__()
        self.regressor, self.lr, self.weight_decay = regressor, float(lr), float(weight_decay)

    @property
    def export_network(self) -> nn.Module:
        """The weights ``condiff-train`` exports: the regressor."""
        return self.regressor

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        tokens, labels = batch
        loss = nn.functional.mse_loss(self.regressor(tokens), labels.float())
        self.log("train/mse", loss, prog_bar=True, batch_size=tokens.shape[0])
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> Tensor:
        """Held-out MSE and Pearson correlation of predictions with the labels."""
        tokens, labels = batch
        pred = self.regressor(tokens)
        loss = nn.functional.mse_loss(pred, labels.float())
        self.log("val/mse", loss, prog_bar=True, batch_size=tokens.shape[0])
        if tokens.shape[0] > 1:
            self.log(
                "val/pearson", torch.corrcoef(torch.stack([pred, labels.float()]))[0, 1], batch_size=tokens.shape[0]
            )
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.regressor.parameters(), lr=self.lr, weight_decay=self.weight_decay)
