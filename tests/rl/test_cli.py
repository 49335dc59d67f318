"""The commands a user runs: condiff-train trains every planner part; condiff-evaluate rolls the planner out."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from condiff.core.config import instantiate_node
from condiff.core.export import load_exported_config, load_exported_weights
from condiff.core.sampling import ModelDenoiser, sample
from tests.e2e.cli import run_cli


def test_train_then_evaluate_writes_planner_rollouts_and_plot(tmp_path: Path, cache_dir: Path) -> None:
    run = tmp_path / "run"
    env = {"CONDIFF_CACHE_DIR": str(cache_dir)}
    run_cli(
        "condiff-train", "experiment=rl/trajectory_diffuser_pointmaze_umaze", "logger=csv", "threads=2",
        f"hydra.run.dir={run}", "trainer.max_steps=30", "task.datamodule.num_steps=20000",
        "task.network.base_channels=8", "task.planner_models.transformer.d_model=16",
        "callbacks.planner_models.steps=20", "task.evaluator.episodes=2", "task.evaluator.max_steps=15",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    for name in ("transformer", "inverse_dynamics", "critic"):
        assert (run / "planner" / f"{name}.safetensors").is_file()
    # Plans drawn from the export as condiff-sample draws them (50 DDIM steps, return-guided).
    ecfg = load_exported_config(run / "export")
    net = load_exported_weights(instantiate_node(ecfg, "task.network"), run / "export").eval()
    process = instantiate_node(ecfg, "sde")
    cond = {"returns": torch.ones(4, 1), "goal": torch.zeros(4, 2)}
    with torch.no_grad():
        plans = sample(ModelDenoiser(net, process, "eps", cond=cond, guidance=1.2), process, shape=(4, 4, 32), steps=5,
                       method="ddim", schedule="logsnr", generator=torch.Generator().manual_seed(0)).x  # fmt: skip
    samples = tmp_path / "generated" / "samples.safetensors"
    samples.parent.mkdir()
    save_file({"samples": plans.contiguous()}, str(samples), metadata={"export_dir": str(run / "export"), "nfe": "5"})
    proc = run_cli("condiff-evaluate", f"samples={samples}", "logger=csv", "threads=2", cwd=tmp_path, env=env)
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
