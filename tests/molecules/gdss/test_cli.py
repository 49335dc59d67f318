"""condiff-train / condiff-sample / condiff-evaluate run GDSS end to end (GraphML out, metrics back)."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from tests.e2e.cli import run_cli

TINY = [
    "task.network.x.depth=1",
    "task.network.x.hidden=8",
    "task.network.adj.hidden=8",
    "task.network.adj.attn_dim=8",
    "task.network.adj.num_layers=2",
    "task.network.adj.c_hid=2",
    "task.network.adj.c_final=2",
    "task.datamodule.batch_size=16",
]


@pytest.mark.slow
def test_train_sample_evaluate_community_small(tmp_path: Path) -> None:
    env = {"CONDIFF_LOG_DIR": str(tmp_path / "outputs")}
    run_cli(
        "condiff-train",
        "experiment=molecules/gdss_community_small",
        *TINY,
        "trainer.max_steps=3",
        "sampler.steps=2",
        "module.num_val_samples=4",
        "task.evaluator.metrics=[degree]",
        "logger=none",
        "trainer.enable_progress_bar=false",
        "threads=2",
        cwd=tmp_path,
        env=env,
    )
    run = next((tmp_path / "outputs").rglob("export")).parent
    run_cli(
        "condiff-sample",
        f"export_dir={run / 'export'}",
        "num_samples=6",
        "batch_size=3",
        "sampler=pc",
        "sampler.steps=3",
        "threads=2",
        cwd=tmp_path,
        env=env,
    )
    files = sorted((run / "generated" / "graphs").glob("*.graphml"))
    assert len(files) == 6
    assert all(isinstance(nx.read_graphml(f), nx.Graph) for f in files)
    run_cli(
        "condiff-evaluate",
        f"samples={run / 'generated' / 'samples.safetensors'}",
        "logger=none",
        "threads=2",
        cwd=tmp_path,
        env=env,
    )
    metrics = json.loads((run / "generated" / "metrics.json").read_text())["metrics"]
    assert metrics["nfe"] == 6  # PC: one predictor and one corrector evaluation per step
    assert metrics["degree"] >= 0.0
