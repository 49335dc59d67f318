"""Lightning training of the planner's helper models (proposal transformer, inverse dynamics, critic)."""

from condiff.rl.training.callback import PlannerModelsCallback
from condiff.rl.training.helpers import (
    CriticModule,
    InverseDynamicsModule,
    PlannerModels,
    TransformerModule,
    fit_helper,
    helper_tensors,
    load_planner_models,
    save_planner_models,
    train_planner_models,
)

__all__ = [
    "CriticModule",
    "InverseDynamicsModule",
    "PlannerModels",
    "PlannerModelsCallback",
    "TransformerModule",
    "fit_helper",
    "helper_tensors",
    "load_planner_models",
    "save_planner_models",
    "train_planner_models",
]
