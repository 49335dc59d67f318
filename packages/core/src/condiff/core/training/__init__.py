"""Training: the generic diffusion LightningModule, EMA, schedules, checkpoints."""

from condiff.core.training.ema import ema_decay_at, ema_update_
from condiff.core.training.module import DiffusionModule
from condiff.core.training.schedule import WarmupCosine

__all__ = ["DiffusionModule", "WarmupCosine", "ema_decay_at", "ema_update_"]
