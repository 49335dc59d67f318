"""``benchmarks/gdss.py`` in its quick form runs every sampler and renders its table."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import torch

from tests.benchmarks.loader import load_benchmark


@pytest.fixture(scope="module")
def bench(repo_root: Path) -> ModuleType:
    return load_benchmark(repo_root, "gdss")


def test_table_rows_and_doc_markers(bench: ModuleType, tmp_path: Path) -> None:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        module, dm, _ = bench.graph_model(5)
        rows = bench.run_graphs(module, dm, [4], seeds=1, n=4)
    finally:
        torch.set_num_threads(n)
    assert [r["sampler"] for r in rows] == [s[0] for s in bench.GRAPH_SAMPLERS]
    assert [r["nfe"] for r in rows] == [4] * len(rows)
    doc = tmp_path / "doc.md"
    doc.write_text(f"before\n{bench.START}\nold\n{bench.END}\nafter\n")
    bench.write_doc("new table", doc)
    assert doc.read_text() == f"before\n{bench.START}\nnew table\n{bench.END}\nafter\n"
