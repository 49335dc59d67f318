"""``benchmarks/drakes.py --quick`` runs every method on a tiny task and renders one row each."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.benchmarks.loader import load_benchmark


def test_quick_run_renders_every_method(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = load_benchmark(repo_root, "drakes")
    n = torch.get_num_threads()
    try:
        module.main(["--quick"])
    finally:
        torch.set_num_threads(n)
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "|---" not in line]
    methods = ("pretrained", "CFG", "value guidance", "SMC", "TDS", "best-of-2", "DRAKES")
    for name in methods:
        assert any(r.startswith(f"| {name}") for r in rows), name
    assert "| step | KL | mean activity |" in out
