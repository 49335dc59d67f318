"""``benchmarks/restoration.py``: its headline logic, its doc section writer, and a smoke run of the whole table."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.benchmarks.loader import load_benchmark


@pytest.fixture(scope="module")
def bench(repo_root: Path) -> ModuleType:
    return load_benchmark(repo_root, "restoration")


def _m(nfe: int, psnr: float) -> dict[str, float]:
    return {"nfe": nfe, "psnr_rgb": psnr}


def test_headline_is_the_smallest_mrs_nfe_within_0_1_db_of_em_100(bench: ModuleType) -> None:
    rows = [("Euler-Maruyama (100)", _m(100, 25.0)), ("MRS-ode-data-2 (5)", _m(5, 24.5)),
            ("MRS-ode-data-2 (10)", _m(10, 24.95)), ("MRS-sde-data-1 (20)", _m(20, 25.2))]  # fmt: skip
    assert "at 10 NFE" in bench.headline(rows)
    assert "10x fewer" in bench.headline(rows)
    assert "no MR Sampler row" in bench.headline(rows[:2])


def test_write_section_replaces_only_the_generated_block(bench: ModuleType, tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{bench.BEGIN}\nold\n{bench.END}\noutro\n")
    bench.write_section("new table", doc)
    assert doc.read_text() == f"intro\n{bench.BEGIN}\nnew table\n{bench.END}\noutro\n"
    doc.write_text("no markers")
    with pytest.raises(SystemExit, match="markers"):
        bench.write_section("x", doc)


def test_quick_run_prints_every_sampler_family(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bench.main(["--quick", "--tasks", "denoise", "--steps", "20", "--work-dir", str(tmp_path)])
    out = capsys.readouterr().out
    for family in ("Euler-Maruyama (100)", "posterior (10)", "MRS-ode-data-2 (5)", "MRS-sde-data-2 (10)",
                   "RDDM deterministic (5)", "Headline:"):  # fmt: skip
        assert family in out, family
    assert "nan" not in out.lower()
