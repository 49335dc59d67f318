"""The README's main job, end to end through the three commands: it must really learn."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.cli import run_cli


def _sample_and_evaluate(run: Path, tmp_path: Path, env: dict[str, str]) -> dict[str, float]:
    run_cli(
        "condiff-sample",
        f"export_dir={run / 'export'}",
        "num_samples=500",
        "sampler=ddim",
        "sampler.steps=25",
        "sampler.guidance=2.0",
        "threads=2",
        cwd=tmp_path,
        env=env,
    )
    run_cli(
        "condiff-evaluate",
        f"samples={run / 'generated' / 'samples.safetensors'}",
        "threads=2",
        "logger=none",
        cwd=tmp_path,
        env=env,
    )
    return json.loads((run / "generated" / "metrics.json").read_text())["metrics"]


def _wandb_metric(run_file: Path, key: str) -> float:
    """Last value logged under ``key`` in an offline wandb run file (protobuf: key, then its JSON value)."""
    data = run_file.read_bytes()
    values = re.findall(re.escape(key.encode()) + rb"\x82\x01.([-0-9.eE+]+)", data, flags=re.S)
    assert values, f"{key} not logged in {run_file}"
    return float(values[-1])


@pytest.mark.slow
def test_quickstart_learns_class_conditional_digits(tmp_path: Path, cache_dir: Path) -> None:
    env = {"CONDIFF_LOG_DIR": str(tmp_path / "outputs"), "CONDIFF_CACHE_DIR": str(cache_dir)}
    run_cli(
        "condiff-train",
        "experiment=quickstart",
        "trainer.enable_progress_bar=false",
        "threads=2",
        cwd=tmp_path,
        env=env,
    )
    run = tmp_path / "outputs" / "digits" / "quickstart"
    trained = _sample_and_evaluate(run, tmp_path, env)

    # Baseline: the same pipeline after a single optimizer step (an untrained model).
    run_cli(
        "condiff-train",
        "experiment=quickstart",
        "run_name=untrained",
        "trainer.max_steps=1",
        "logger=none",
        "trainer.enable_progress_bar=false",
        "threads=2",
        cwd=tmp_path,
        env=env,
    )
    untrained = _sample_and_evaluate(tmp_path / "outputs" / "digits" / "untrained", tmp_path, env)

    assert trained["nfe"] == 25
    assert trained["accuracy"] >= 0.90, trained  # chance is 0.10
    assert untrained["accuracy"] < 0.3, untrained
    assert trained["frechet"] < 0.1 * untrained["frechet"], (trained, untrained)

    # wandb (offline): the training run logged metrics and at least one image.
    runs = list((run / "wandb").glob("offline-run-*"))
    assert len(runs) == 1, runs
    assert list((runs[0] / "files" / "media" / "images").rglob("*.png")), "no media logged"
    acc = _wandb_metric(next(runs[0].glob("*.wandb")), "val/accuracy")
    assert 0.0 <= acc <= 1.0
    assert (run / "export" / "model.safetensors").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()
