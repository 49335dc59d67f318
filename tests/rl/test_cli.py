"""The commands a user runs: condiff-train trains every planner part; condiff-evaluate rolls the planner out."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from tests.e2e.cli import run_cli


def test_train_then_evaluate_writes_planner_rollouts_and_plot(tmp_path: Path, cache_dir: Path) -> None:
    run = tmp_path / "run"
    env = {"CONDIFF_CACHE_DIR": str(cache_dir)}
    run_cli(
        "condiff-train", "experiment=rl/trajectory_diffuser_pointmaze_umaze", "logger=csv", "threads=1",
        f"hydra.run.dir={run}", "trainer.max_steps=30", "task.datamodule.num_steps=20000",
        "task.network.base_channels=8", "task.planner_models.transformer.d_model=16",
        "callbacks.planner_models.steps=20", "task.evaluator.episodes=2", "task.evaluator.max_steps=15",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    for name in ("transformer", "inverse_dynamics", "critic"):
        assert (run / "planner" / f"{name}.safetensors").is_file()
    # Plans drawn by condiff-sample from the export (the experiment's DDIM, return-guided) on held-out windows.
    out = tmp_path / "generated"
    run_cli(
        "condiff-sample", f"export_dir={run / 'export'}", "num_samples=4", "batch_size=4", "sampler.steps=5",
        f"out_dir={out}", "threads=1", cwd=tmp_path, env=env,
    )  # fmt: skip
    samples = out / "samples.safetensors"
    plans = load_file(str(samples))["samples"]
    assert plans.shape == (4, 4, 32)
    assert bool(torch.isfinite(plans).all())
    proc = run_cli("condiff-evaluate", f"samples={samples}", "logger=csv", "threads=1", cwd=tmp_path, env=env)
    metrics = json.loads((samples.parent / "metrics.json").read_text())["metrics"]
    assert 0.0 <= metrics["plan_feasible"] <= 1.0
    assert metrics["episodes"] == 2
    assert metrics["ms_per_step"] > 0
    record = json.loads((run / "rollouts" / "rollouts.json").read_text())
    assert record["mode"] == "trajectory_diffuser"
    assert len(record["returns"]) == 2
    assert record["ref_min"] == 23.85
    assert (run / "rollouts" / "trajectories.png").stat().st_size > 0
    assert "success_rate" in proc.stdout
