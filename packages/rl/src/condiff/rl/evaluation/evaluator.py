"""``condiff-evaluate`` for RL tasks: judge the sampled plans, then roll the planner out in the environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from torch import Tensor, nn

from condiff.core.export import load_exported_weights
from condiff.core.processes.base import GaussianProcess
from condiff.rl.data.datamodule import TrajectoryDataModule
from condiff.rl.envs.make import env_spec
from condiff.rl.envs.maze import MazeGeometry
from condiff.rl.evaluation.plot import maze_trajectory_image, save_image, state_curve_image
from condiff.rl.evaluation.policies import PlannerPolicy
from condiff.rl.evaluation.rollout import rollout
from condiff.rl.planning import Planner
from condiff.rl.training.helpers import PlannerModels, load_planner_models


def plan_feasibility(geometry: MazeGeometry, positions: np.ndarray) -> float:
    """Fraction of planned positions ``(..., 2)`` that lie in free maze cells (not inside walls)."""
    flat = positions.reshape(-1, 2)
    return float(np.mean([geometry.is_free(p) for p in flat]))


def build_planner(
    dm: TrajectoryDataModule,
    network: nn.Module,
    process: GaussianProcess,
    parameterization: str,
    models: PlannerModels,
    options: Mapping[str, Any],
) -> Planner:
    """A :class:`Planner` with the data module's normalisation and state range and ``options`` (mode, steps,
    guidance, ...)."""
    dm.prepare()
    return Planner(
        network, process, parameterization, models, dm.norm.mean, dm.norm.std, dm.action_scale, dm.horizon,
        state_bounds=dm.state_bounds, **options,
    )  # fmt: skip


class RolloutEvaluator:
    """Evaluator of an exported RL task: plan feasibility of the samples plus seeded rollouts.

    Writes ``rollouts.json`` (per-episode returns, D4RL scores, successes) and ``trajectories.png``
    to ``out_dir``; returns the summary (success rate, mean return and normalised score, ms per step).
    """

    def __init__(
        self,
        datamodule: TrajectoryDataModule,
        network: nn.Module,
        process: GaussianProcess,
        parameterization: str,
        planner_models: Mapping[str, nn.Module],
        planner: Mapping[str, Any],
        export_dir: str,
        planner_dir: str,
        out_dir: str,
        episodes: int = 10,
        seed: int = 1000,
        max_steps: int | None = None,
    ) -> None:
        self.dm, self.network, self.process, self.parameterization = datamodule, network, process, parameterization
        self.models = PlannerModels(**planner_models)  # type: ignore[arg-type]  # Hydra-built modules of the right types
        self.options = dict(planner)
        self.export_dir, self.planner_dir, self.out_dir = export_dir, planner_dir, out_dir
        self.episodes, self.seed, self.max_steps = int(episodes), int(seed), max_steps

    def __call__(self, samples: Tensor, cond: Mapping[str, Any]) -> dict[str, float]:
        spec = env_spec(self.dm.env)
        self.dm.prepare()
        metrics: dict[str, float] = {}
        geometry = MazeGeometry(spec.maze) if spec.maze else None
        if geometry is not None and samples.ndim == 3:
            raw = self.dm.norm.inverse(samples.transpose(1, 2).numpy())
            metrics["plan_feasible"] = plan_feasibility(geometry, raw[..., :2])
        network = load_exported_weights(self.network, self.export_dir).eval()
        models = load_planner_models(self.models, self.planner_dir)
        planner = build_planner(self.dm, network, self.process, self.parameterization, models, self.options)
        res = rollout(spec.name, PlannerPolicy(planner, self.seed), self.episodes, self.seed, self.max_steps)
        metrics.update(res.summary())
        out = Path(self.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        record = {"env": spec.name, "mode": planner.mode, "ref_min": spec.ref_min, "ref_max": spec.ref_max,
                  "returns": res.returns.tolist(), "scores": res.scores.tolist(), "success": res.success.tolist(),
                  "summary": metrics}  # fmt: skip
        tmp = out / f".rollouts.json.tmp{os.getpid()}"
        tmp.write_text(json.dumps(record, indent=2))
        os.replace(tmp, out / "rollouts.json")
        if geometry is not None and res.goals is not None:
            img = maze_trajectory_image(geometry, res.trajectories, res.goals)
        else:
            img = state_curve_image(res.trajectories)
        save_image(img, out / "trajectories.png")
        print(f"rollouts:        {out / 'rollouts.json'}  plot: {out / 'trajectories.png'}", flush=True)
        return metrics
