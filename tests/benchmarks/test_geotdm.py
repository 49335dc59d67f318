"""``benchmarks/geotdm.py``: the materialised attention equals condiff's; quick rows; the doc markers."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import torch

from condiff.molecules.geotdm.network import GeoTDMNetwork, dense_to_graph
from tests.benchmarks.loader import load_benchmark


@pytest.fixture(scope="module")
def bench(repo_root: Path) -> ModuleType:
    return load_benchmark(repo_root, "geotdm")


def test_materialised_attention_computes_the_same_network(bench: ModuleType) -> None:
    torch.manual_seed(0)
    net = GeoTDMNetwork(node_dim=1, hidden=8, num_layers=2, heads=2, time_dim=8).double()
    for layer in net.temporal:
        torch.nn.init.normal_(layer.gate.weight, std=0.3)
    x, batch = dense_to_graph(torch.randn(2, 4, 6, 3, dtype=torch.float64))
    inp = {"t": torch.rand(2, dtype=torch.float64), "batch": batch, "node_attr": torch.ones(8, 1, dtype=torch.float64)}
    dx, h = net(x, **inp)
    dx_m, h_m = bench.materialise(net)(x, **inp)
    assert dx.abs().max() > 1e-3
    torch.testing.assert_close(dx_m, dx)
    torch.testing.assert_close(h_m, h)


def test_quick_rows_and_doc_markers(bench: ModuleType, tmp_path: Path) -> None:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        module, dm, _ = bench.train_model(steps=3, train_size=32)
        rows = bench.run_samplers(module, dm, [2], seeds=1, n=3)
        steps = bench.run_step_times([(2, 4, 8, 1)], repeats=1)
    finally:
        torch.set_num_threads(n)
    names = [r["sampler"] for r in rows]
    assert names == ["constant velocity", "learned prior mean", *[s[0] for s in bench.SAMPLERS]]
    assert [r["nfe"] for r in rows[2:]] == [2] * len(bench.SAMPLERS)
    assert steps[0]["broadcast_s"] > 0
    assert steps[0]["materialised_s"] > 0
    table = bench.markdown(
        rows, steps, {"date": "d", "machine": "m", "steps": 3, "train_s": 1.0, "train_size": 32, "n": 3, "seeds": 1}
    )
    assert "| DDPM ancestral | 2 |" in table
    doc = tmp_path / "doc.md"
    doc.write_text(f"before\n{bench.START}\nold\n{bench.END}\nafter\n")
    bench.write_doc("new table", doc)
    assert doc.read_text() == f"before\n{bench.START}\nnew table\n{bench.END}\nafter\n"


def test_uncond_rows_and_table(bench: ModuleType) -> None:
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        module, dm, _ = bench.train_uncond_model(steps=2, train_size=16, n=6)
        rows = bench.run_uncond(module, dm, 6, score_steps=2, samplers=[("GeoTDM, DDIM", "ddim", 2, {})])
    finally:
        torch.set_num_threads(n)
    assert [r["source"] for r in rows] == [
        "held-out real data (val split)",
        "diffusion prior P eps (noise)",
        "GeoTDM, DDIM",
    ]
    assert rows[2]["nfe"] == 2
    assert all(r[k] >= 0 for r in rows for k in ("marginal", "classification", "prediction"))
    info = {"date": "d", "machine": "m", "steps": 2, "train_s": 1.0, "train_size": 16, "n": 6, "score_steps": 2}
    table = bench.uncond_markdown(rows, info)
    assert "| GeoTDM, DDIM | 2 |" in table
    assert table.count("\n|") == 5  # header, rule and three rows
