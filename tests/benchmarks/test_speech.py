"""A smoke run of ``benchmarks/speech.py`` and its headline rule."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import torch

from tests.benchmarks.loader import load_benchmark


@pytest.fixture(scope="module")
def bench(repo_root: Path) -> ModuleType:
    return load_benchmark(repo_root, "speech")


def test_headline_is_the_smallest_nfe_within_005_pesq_of_pc60(bench: ModuleType) -> None:
    rows = [
        {"sampler": "PC", "nfe": 60, "pesq": 2.00},
        {"sampler": "A", "nfe": 5, "pesq": 1.90},
        {"sampler": "A", "nfe": 10, "pesq": 1.96},
        {"sampler": "B", "nfe": 20, "pesq": 2.10},
    ]
    assert "A at 10 NFE" in bench.headline(rows)
    assert "No fast solver" in bench.headline(rows[:2])


def test_quick_run_writes_a_table(bench: ModuleType, cache_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "speech.md"
    out.write_text("# doc\n")
    threads = str(torch.get_num_threads())
    bench.main(["--quick", "--train-steps", "4", "--files", "2", "--eval-frames", "32", "--device", "cpu",
                "--threads", threads, "--cache-dir", str(cache_dir), "--out", str(out)])  # fmt: skip
    text = out.read_text()
    assert text.startswith("# doc")
    assert bench.START in text
    assert "| PC (reverse diffusion + ALD) | 60 |" in text
    assert "Headline:" in text
