"""Lightning callbacks of the training stack."""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint


class EpochBoundaryCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` that saves inside the last training batch of every ``every_n_epochs``-th epoch.

    Lightning's own end-of-epoch save happens in ``on_train_epoch_end``, where the
    loop still counts the epoch as unfinished: resuming from it replays part of an
    epoch with a shifted data order. Saving after the epoch's last optimizer step
    instead resumes exactly (same weights, EMA, optimizer, RNG and data order as an
    uninterrupted run; tested with SIGKILL). It also saves when ``max_steps`` ends
    training mid-epoch, so ``last.ckpt`` always holds the final state.
    """

    def __init__(self, every_n_epochs: int = 1, **kwargs: Any) -> None:
        if every_n_epochs < 1:
            raise ValueError(f"EpochBoundaryCheckpoint: every_n_epochs must be >= 1, got {every_n_epochs}")
        kwargs.pop("every_n_train_steps", None)
        kwargs.pop("train_time_interval", None)
        super().__init__(every_n_epochs=0, save_on_train_epoch_end=True, **kwargs)
        self.n_epochs = every_n_epochs

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self._should_skip_saving_checkpoint(trainer):
            return
        epoch_end = batch_idx + 1 == trainer.num_training_batches and (trainer.current_epoch + 1) % self.n_epochs == 0
        final = trainer.max_steps is not None and trainer.max_steps > 0 and trainer.global_step >= trainer.max_steps
        if epoch_end or final:
            candidates = self._monitor_candidates(trainer)
            self._save_topk_checkpoint(trainer, candidates)
            self._save_last_checkpoint(trainer, candidates)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        return

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        return
