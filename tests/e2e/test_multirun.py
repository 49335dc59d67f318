"""Hydra sweeps (-m) run one training per point of the sweep."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.cli import run_cli


def test_multirun_sweep_trains_each_point(tmp_path: Path, cache_dir: Path) -> None:
    run_cli(
        "condiff-train",
        "-m",
        "experiment=quickstart",
        "trainer.max_steps=9",
        "logger=csv",
        "export=false",
        "trainer.enable_progress_bar=false",
        "trainer.check_val_every_n_epoch=100",
        "module.lr=1e-3,3e-3",
        cwd=tmp_path,
        env={"CONDIFF_LOG_DIR": str(tmp_path / "outputs"), "CONDIFF_CACHE_DIR": str(cache_dir)},
    )
    (sweep,) = (tmp_path / "outputs" / "digits" / "multirun").iterdir()
    points = sorted(p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit())
    assert [p.name for p in points] == ["0", "1"]
    lrs = []
    for p in points:
        assert (p / "checkpoints" / "last.ckpt").is_file()
        lrs.append((p / ".hydra" / "overrides.yaml").read_text())
    assert "module.lr=0.001" in lrs[0] or "module.lr=1e-3" in lrs[0]
    assert "module.lr=3e-3" in lrs[1] or "module.lr=0.003" in lrs[1]
