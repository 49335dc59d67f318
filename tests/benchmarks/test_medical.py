"""``benchmarks/medical.py``: MONAI's schedulers see the core's discrete-VP time correctly, and the doc section
writer replaces only its block."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import torch
from torch import Tensor, nn

from condiff.core.processes import DiscreteVPProcess
from tests.benchmarks.loader import load_benchmark


@pytest.fixture(scope="module")
def bench(repo_root: Path) -> ModuleType:
    return load_benchmark(repo_root, "medical")


class _ExactEps(nn.Module):
    """The exact noise prediction for data that is a point mass at ``c``: ``eps = (x - a(t) c) / s(t)``."""

    def __init__(self, c: Tensor) -> None:
        super().__init__()
        self.c = c
        self.process = DiscreteVPProcess(betas=torch.linspace(1e-4, 0.02, 1000))

    def forward(self, x: Tensor, t: Tensor, cond_image: Tensor | None = None) -> Tensor:
        co = self.process.coefficients64(t.double())
        a, s = co.a.reshape(-1, 1, 1, 1), co.s.reshape(-1, 1, 1, 1)
        return ((x.double() - a * self.c) / s).float()


@pytest.mark.parametrize(("scheduler", "steps"), [("ddim", 10), ("ddpm", 50)])
def test_monai_schedulers_land_on_the_point_mass(bench: ModuleType, scheduler: str, steps: int) -> None:
    """With the exact denoiser of a point mass, DDIM and DDPM end exactly on it, but only if MONAI's timestep k
    is the process time (k + 1) / 1000 (one step off leaves an error of 0.04 with DDIM, 0.5 with DDPM)."""
    c = torch.full((2, 1, 4, 4), 0.3, dtype=torch.float64)
    x = bench.monai_sample(_ExactEps(c), scheduler, steps, torch.zeros(2, 1, 4, 4), seed=0, prediction="epsilon")
    torch.testing.assert_close(x.double(), c, atol=2e-3, rtol=0)


def test_write_section_replaces_only_the_generated_block(bench: ModuleType, tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{bench.BEGIN}\nold\n{bench.END}\noutro\n")
    bench.write_section("new table", doc)
    assert doc.read_text() == f"intro\n{bench.BEGIN}\nnew table\n{bench.END}\noutro\n"
    (tmp_path / "bare.md").write_text("no markers")
    with pytest.raises(SystemExit, match="markers"):
        bench.write_section("x", tmp_path / "bare.md")
