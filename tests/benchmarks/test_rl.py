"""A smoke run of ``benchmarks/rl.py``: both planners on the same tiny networks, the table written in place."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import pytest
import torch

from tests.benchmarks.loader import load_benchmark


@pytest.fixture(scope="module")
def bench(repo_root: Path) -> ModuleType:
    return load_benchmark(repo_root, "rl")


def test_quick_benchmark_compares_both_planners_and_rewrites_only_its_table(
    bench: ModuleType, tmp_path: Path, cache_dir: Path
) -> None:
    out = tmp_path / "rl.md"
    out.write_text(f"# intro kept\n\n{bench.START}\nold table\n{bench.END}\n\ntail kept\n")
    threads = torch.get_num_threads()
    try:  # one thread: the run's batches are tiny (two threads took 276 s instead of 7 s on the shared machine)
        rows = bench.main(
            ["--quick", "--out", str(out), "--cache-dir", str(cache_dir), "--data-steps", "20000",
             "--diffusion-steps", "100", "--helper-steps", "50", "--episodes", "2", "--max-steps", "10",
             "--timing-steps", "3", "--full-steps", "12", "--channels", "8", "--threads", "1"]
        )  # fmt: skip
    finally:
        torch.set_num_threads(threads)  # main() sets the thread count; later tests keep the session's
    assert torch.get_num_threads() == threads
    td, dd = rows["trajectory_diffuser"], rows["decision_diffuser"]
    assert td["nfe"] == 3
    assert dd["nfe"] == 12
    for r in (td, dd):
        assert all(math.isfinite(v) for v in r.values()), r
        assert r["ms_per_action"] > 0
    text = out.read_text()
    assert text.startswith("# intro kept")
    assert text.rstrip().endswith("tail kept")
    assert "old table" not in text
    assert "| trajectory_diffuser | 3 |" in text
    assert "plans in free cells" in text
    for r in (td, dd):  # maze plans: a fraction of positions in free cells, a first step in world units
        assert 0.0 <= r["plan_free"] <= 1.0
        assert r["first_step"] >= 0.0
