"""``benchmarks/pde.py``: every model's config composes, the three tables render from (untrained) models, and
the doc markers are replaced."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from hydra.utils import instantiate

from condiff.core.training.run import build_module
from tests.benchmarks.loader import load_benchmark


@pytest.fixture(scope="module")
def bench(repo_root: Path) -> ModuleType:
    return load_benchmark(repo_root, "pde")


@pytest.fixture
def one_thread() -> Iterator[None]:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.usefixtures("one_thread")
def test_tables_render_from_the_composed_models(bench: ModuleType, tmp_path: Path) -> None:
    args = argparse.Namespace(threads=1, seed=0, train_samples=8, test_samples=4, steps=1)
    results: dict[str, dict[str, Any]] = {}
    for label, overrides in bench.models(8).items():
        cfg = bench.compose_model(overrides, tmp_path / label, args)
        module = build_module(cfg)
        module.ema_network.eval()
        results[label] = {"module": module, "datamodule": instantiate(cfg.task.datamodule)}
    assert results["WDNO control"]["datamodule"].condition_on_final
    assert results["WDNO multi-res"]["datamodule"].train_subsample == [2, 4]
    rows = bench.solver_table(results, quick=True, log=lambda msg: None)
    assert len(rows) == 2 + 2 * len(bench.SOLVERS)
    assert rows[2].startswith("| DDPM ancestral | 10 |")
    resolution = bench.resolution_table(results, 0.01)
    assert len(resolution) == 2 + 4 + 2
    superres = bench.superres_table(results, args)
    assert len(superres) == 2 + 5
    assert results["WDNO super"]["datamodule"].super_resolution
    control = bench.control_table(results, (0.0,), 0.01)
    assert sum(line.startswith("| p(u, f") for line in control) == 2


@pytest.mark.usefixtures("one_thread")
def test_advection_tables_render_from_the_composed_models(bench: ModuleType, tmp_path: Path) -> None:
    args = argparse.Namespace(threads=1, seed=0, train_samples=8, test_samples=4, steps=1)
    results: dict[str, dict[str, Any]] = {}
    for label, overrides in bench.advection_models(8).items():
        cfg = bench.compose_model(overrides, tmp_path / label.replace(" ", "_"), args)
        module = build_module(cfg)
        module.ema_network.eval()
        results[label] = {"module": module, "datamodule": instantiate(cfg.task.datamodule)}
    assert results["advection control"]["datamodule"].pde == "advection"
    sim = bench.advection_sim_table(results)
    assert len(sim) == 2 + 4
    assert sim[-1].startswith("| unforced advection (exact) | 0.")  # the exact unforced solution is close
    control = bench.control_table(results, (0.0,), 0.0, ("advection WDNO", "advection control"))
    assert sum(line.startswith("| p(u, f") for line in control) == 2


@pytest.mark.usefixtures("one_thread")
def test_smoke_tables_render_from_the_composed_models(bench: ModuleType, tmp_path: Path) -> None:
    args = argparse.Namespace(threads=1, seed=0, train_samples=4, test_samples=2, steps=1)
    results: dict[str, dict[str, Any]] = {}
    for label, overrides in bench.smoke_models(8).items():
        cfg = bench.compose_model(overrides, tmp_path / label.replace(" ", "_"), args)
        module = build_module(cfg)
        module.ema_network.eval()
        results[label] = {"module": module, "datamodule": instantiate(cfg.task.datamodule)}
    assert results["smoke pixel"]["datamodule"].box.n == bench.SMOKE_N
    sim = bench.smoke_sim_table(results)
    assert len(sim) == 2 + 3
    control = bench.smoke_control_table(results, (0.0,))
    assert len(control) == 2 + 2 + 2 + 1  # zero, data, w = 0 per model, the leakage-term row
    assert control[2].startswith("| zero | ")


def test_write_section_replaces_the_marked_block(bench: ModuleType, tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(f"before\n{bench.BEGIN}\nold\n{bench.END}\nafter\n")
    bench.write_section("new table", doc)
    assert doc.read_text() == f"before\n{bench.BEGIN}\nnew table\n{bench.END}\nafter\n"
    doc.write_text("no markers")
    with pytest.raises(SystemExit, match="markers"):
        bench.write_section("x", doc)


def test_the_doc_has_both_generated_blocks(bench: ModuleType) -> None:
    text = bench.DOC.read_text()
    for marker in (
        bench.BEGIN,
        bench.END,
        bench.ADVECTION_BEGIN,
        bench.ADVECTION_END,
        bench.SMOKE_BEGIN,
        bench.SMOKE_END,
    ):
        assert text.count(marker) == 1, marker
