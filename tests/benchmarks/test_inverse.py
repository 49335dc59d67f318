"""``benchmarks/inverse.py``: PSNR, the section writer, and a tiny end-to-end run (5 training steps)."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import pytest
import torch

from tests.benchmarks.loader import load_benchmark


@pytest.fixture(scope="module")
def bench(repo_root: Path) -> ModuleType:
    return load_benchmark(repo_root, "inverse")


def test_psnr_of_a_known_error(bench: ModuleType) -> None:
    ref = torch.zeros(2, 1, 4, 4)
    x = ref + 0.2  # [0, 1] error 0.1 -> MSE 0.01 -> 20 dB
    assert abs(bench.psnr(x, ref) - 20.0) < 1e-4


def test_tiny_run_writes_every_problem_and_method(bench: ModuleType, tmp_path: Path) -> None:
    doc = tmp_path / "inference.md"
    args = ["--quick", "--train-steps", "3", "--crops", "2", "--nfes", "2", "--out", str(doc)]
    bench.main([*args, "--cache-dir", str(tmp_path)])
    assert (tmp_path / "inverse_unet_3.safetensors").exists()
    text = doc.read_text()
    for problem in ("inpainting", "x4 super-resolution", "deblurring"):
        assert problem in text, problem
    values = [
        line.split("|")[2].strip() for line in text.splitlines() if line.startswith("| ") and "method" not in line
    ]
    assert len(values) == 3 * 4
    assert all(math.isfinite(float(v)) for v in values), values
