"""``benchmarks/drakes.py --quick`` runs every method on a tiny task, renders one row each and counts the
denoiser calls each method really makes (quick run: 8 sampling steps, K = 4 SMC particles, K = 2 for TDS)."""

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
    calls = {}
    for name in methods:
        row = next(r for r in rows if r.startswith(f"| {name}"))
        calls[name] = float(row.split("|")[-3])
    assert calls["CFG"] == 2 * 8  # conditional + unconditional every step, no caching
    assert calls["value guidance"] == 2 * 8  # the denoiser + the value's denoiser call every step
    assert calls["SMC"] == 4 * 8 + 4 * (8 + 1)  # K proposals per step + K value calls per state
    assert calls["TDS"] == 2 * 2 * 8 + 2 * 8 + 2 * (8 + 1)  # pretrained + guided, Taylor value, weights
    assert calls["pretrained"] <= 8  # caching may skip a call
    assert calls["DRAKES"] <= 8
    assert calls["best-of-2"] <= 2 * 8
    assert "| step | KL | mean activity |" in out
