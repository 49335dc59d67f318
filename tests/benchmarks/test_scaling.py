"""``benchmarks/scaling.py``: a quick run writes its section, and search beats plain sampling there."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.benchmarks.loader import load_benchmark


@pytest.fixture(scope="module")
def bench(repo_root: Path) -> ModuleType:
    return load_benchmark(repo_root, "scaling")


def test_write_section_replaces_only_its_block(bench: ModuleType, tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{bench.BEGIN}\nold\n{bench.END}\noutro\n")
    bench.write_section(doc, bench.BEGIN, bench.END, ["new"])
    assert doc.read_text() == f"intro\n{bench.BEGIN}\nnew\n{bench.END}\noutro\n"


def test_quick_run_writes_every_method_and_search_beats_plain(bench: ModuleType, tmp_path: Path) -> None:
    doc = tmp_path / "inference.md"
    bench.main(["--quick", "--out", str(doc)])
    text = doc.read_text()
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in text.splitlines() if line.startswith("| ")}
    for label in ("plain UniPC", "best-of-N", "SMC", "beam (k/2 beams x 2)", "RBF"):
        assert label in rows, label
    plain_20 = float(rows["plain UniPC"][1])
    for label in ("beam (k/2 beams x 2)", "RBF"):  # the last table (flow) at 20 NFE
        reward, nfe = rows[label][1].split()
        assert float(reward) > plain_20 + 3.0, (label, reward, plain_20)
        assert float(nfe.strip("()")) <= 20
