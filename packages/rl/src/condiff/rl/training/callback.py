"""Lightning callback: when the diffusion model's fit ends, train and save the planner's helper models."""

from __future__ import annotations

import lightning as L

from condiff.core.errors import ConfigError
from condiff.rl.data.datamodule import TrajectoryDataModule
from condiff.rl.networks import CausalStateTransformer, InverseDynamics, PlanCritic
from condiff.rl.training.helpers import PlannerModels, save_planner_models, train_planner_models


class PlannerModelsCallback(L.Callback):
    """Train the proposal transformer, inverse dynamics and critic on the run's data module after
    ``condiff-train`` fitted the diffusion model, and write them to ``out_dir`` (rank 0 only)."""

    def __init__(
        self,
        transformer: CausalStateTransformer,
        inverse_dynamics: InverseDynamics,
        critic: PlanCritic,
        out_dir: str,
        steps: int = 2000,
        batch_size: int = 256,
        lr: float = 1e-3,
        seed: int = 0,
    ) -> None:
        self.models = PlannerModels(transformer, inverse_dynamics, critic)
        self.out_dir, self.steps, self.batch_size, self.lr, self.seed = out_dir, int(steps), int(batch_size), lr, seed

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        dm = getattr(trainer, "datamodule", None)
        if not isinstance(dm, TrajectoryDataModule):
            raise ConfigError("callbacks.planner_models: needs task.datamodule to be a TrajectoryDataModule")
        losses = train_planner_models(self.models, dm, self.steps, self.batch_size, self.lr, self.seed)
        save_planner_models(self.models, self.out_dir)
        print(f"planner models:  {self.out_dir}  (final losses {losses})", flush=True)
