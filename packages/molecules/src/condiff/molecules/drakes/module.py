"""Lightning training of DRAKES: a fine-tuned copy of a pretrained masked-diffusion denoiser, the frozen
pretrained one for the KL term, and a differentiable fine-tuning oracle; an evaluation oracle, kept separate,
is only logged."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from condiff.core.checkpoint import atomic_write_bytes
from condiff.core.discrete import MaskedDiffusion
from condiff.molecules.drakes.finetune import DifferentiableReward, drakes_loss

__all__ = ["CURVE_FILE", "DrakesModule", "IterationDataset"]

CURVE_FILE = "reward_vs_kl.csv"


class IterationDataset(Dataset[int]):
    """``n`` items of nothing: DRAKES draws its own trajectories, one optimizer step per item."""

    def __init__(self, n: int) -> None:
        self.n = int(n)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


class DrakesModule(L.LightningModule):
    """DRAKES fine-tuning (:func:`~condiff.molecules.drakes.finetune.drakes_loss`) of ``pretrained``.

    Args:
        pretrained: ``network(z (B, L, V+1) float, t (B,)) -> (B, L, V+1)`` logits; copied for fine-tuning and
            kept frozen for the KL term.
        reward: differentiable fine-tuning oracle on ``(B, L, V)`` one-hot sequences.
        evaluation_oracle: ``tokens (B, L) -> (B,)``, logged as ``train/eval_reward`` (never differentiated).
        batch_size, length, steps, temperature, alpha, truncate: as in ``drakes_loss``.
    """

    def __init__(
        self,
        pretrained: nn.Module,
        diffusion: MaskedDiffusion,
        reward: DifferentiableReward,
        *,
        length: int,
        batch_size: int = 32,
        steps: int = 50,
        alpha: float = 1e-3,
        temperature: float = 1.0,
        truncate: int | None = 50,
        lr: float = 1e-4,
        use_checkpoint: bool = True,
        evaluation_oracle: Callable[[Tensor], Tensor] | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.finetuned = copy.deepcopy(pretrained).train().requires_grad_(True)
        # Frozen and in eval mode, outside the module tree (not trained, not saved with the fine-tuned weights,
        # not flagged by Lightning's eval-mode check); moved to the device at fit start.
        self._frozen = [copy.deepcopy(pretrained).requires_grad_(False).eval()]
        self.diffusion = diffusion
        # The oracles are not trained: kept outside the module tree (a regressor in eval mode would be
        # switched to train mode by Lightning, and saved with the fine-tuned weights).
        self._oracles = [reward, evaluation_oracle]
        self.length, self.batch_size, self.steps = int(length), int(batch_size), int(steps)
        self.alpha, self.temperature, self.truncate = float(alpha), float(temperature), truncate
        self.lr, self.use_checkpoint, self.seed = float(lr), bool(use_checkpoint), int(seed)
        # (batch, KL, fine-tuning reward, evaluation reward) per training batch: the reward-against-KL curve. Kept
        # as device tensors during training (no host sync per step), turned into floats when saved or written.
        self._curve: list[tuple[int, Tensor]] = []

    @property
    def export_network(self) -> nn.Module:
        """The weights ``condiff-train`` exports: the fine-tuned denoiser."""
        return self.finetuned

    @property
    def pretrained(self) -> nn.Module:
        return self._frozen[0]

    @property
    def reward(self) -> DifferentiableReward:
        return self._oracles[0]  # type: ignore[return-value]

    @property
    def evaluation_oracle(self) -> Callable[[Tensor], Tensor] | None:
        return self._oracles[1]

    def on_fit_start(self) -> None:
        self._frozen[0] = self._frozen[0].to(self.device)
        for oracle in self._oracles:
            if isinstance(oracle, nn.Module):
                oracle.to(self.device)

    def training_step(self, batch: Any, batch_idx: int) -> Tensor:
        # Per-batch seed from (seed, epoch, batch): a resumed run draws the trajectories an uninterrupted one draws,
        # and accumulated micro-batches of one optimizer step draw different ones. The generator lives on the
        # module's device (the Gumbel noise is drawn there).
        per_epoch = self.trainer.num_training_batches
        draw = self.current_epoch * int(per_epoch) + batch_idx if math.isfinite(per_epoch) else self.global_step
        gen = torch.Generator(device=self.device).manual_seed(self.seed * 1_000_003 + draw)
        out = drakes_loss(
            self.diffusion, self.finetuned, self.pretrained, self.reward, (self.batch_size, self.length),
            steps=self.steps, alpha=self.alpha, temperature=self.temperature, truncate=self.truncate,
            use_checkpoint=self.use_checkpoint, generator=gen, device=self.device,
        )  # fmt: skip
        if not torch.isfinite(out.loss):
            raise FloatingPointError(f"DRAKES loss is {out.loss.item()} at step {self.global_step}")
        self.log("train/loss", out.loss, prog_bar=True, batch_size=self.batch_size)
        self.log("train/reward", out.reward.mean(), prog_bar=True, batch_size=self.batch_size)
        self.log("train/kl", out.kl.mean(), batch_size=self.batch_size)
        true_reward = torch.full((), float("nan"), device=self.device)
        if self.evaluation_oracle is not None:
            with torch.no_grad():
                true_reward = self.evaluation_oracle(out.x0.argmax(-1)).float().mean()
            self.log("train/eval_reward", true_reward, batch_size=self.batch_size)
        self._curve.append((draw, torch.stack([out.kl.mean(), out.reward.mean(), true_reward]).detach()))
        return out.loss

    @property
    def history(self) -> list[tuple[int, float, float, float]]:
        """The reward-against-KL curve: ``(batch, KL, fine-tuning reward, evaluation reward)`` per batch."""
        if not self._curve:
            return []
        values = torch.stack([v.float().cpu() for _, v in self._curve]).tolist()
        return [(b, k, r, e) for (b, _), (k, r, e) in zip(self._curve, values, strict=True)]

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["drakes_history"] = self.history

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._curve = [(int(b), torch.tensor([k, r, e])) for b, k, r, e in checkpoint.get("drakes_history", [])]

    def on_train_end(self) -> None:
        """Reward against KL along fine-tuning: ``reward_vs_kl.csv`` in the run folder and, with wandb, a scatter
        plot (``train/reward_vs_kl``); :attr:`history` holds it in any case."""
        history = self.history
        writes_files = self.trainer.logger is not None or bool(self.trainer.checkpoint_callbacks)
        if not self.trainer.is_global_zero or not history or not writes_files:
            return  # a bare Trainer (no logger, no checkpoints) writes nothing, as Lightning itself does
        rows = ["batch,kl,reward,eval_reward"] + [f"{b},{k:.6g},{r:.6g},{e:.6g}" for b, k, r, e in history]
        atomic_write_bytes(("\n".join(rows) + "\n").encode(), Path(self.trainer.default_root_dir) / CURVE_FILE)
        from lightning.pytorch.loggers import WandbLogger

        for logger in self.trainer.loggers:
            if isinstance(logger, WandbLogger):
                import wandb

                table = wandb.Table(columns=["batch", "kl", "reward", "eval_reward"], data=[list(r) for r in history])
                logger.experiment.log({"train/reward_vs_kl": wandb.plot.scatter(table, "kl", "reward")})

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.finetuned.parameters(), lr=self.lr)
