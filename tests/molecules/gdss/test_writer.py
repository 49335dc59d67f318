"""The sample writer of condiff-sample: SMILES file + packed samples that the task's evaluator reads back."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from condiff.core.processes import VEProcess
from condiff.molecules.gdss import MoleculeDataModule, MoleculeEvaluator, gdss_network, graph_process
from condiff.molecules.gdss.writer import GraphSampleWriter


def test_molecule_writer_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    dm = MoleculeDataModule(batch_size=8)
    net = gdss_network(
        4, {"depth": 1, "hidden": 8}, {"hidden": 8, "attn_dim": 8, "num_layers": 2, "c_hid": 2, "c_final": 2}
    )
    proc = graph_process(VEProcess(0.1, 1.0, t_min=1e-5), VEProcess(0.1, 1.0, t_min=1e-5))
    out = GraphSampleWriter(kind="molecules")(
        network=net.eval(), process=proc, parameterization="eps", datamodule=dm,
        options={"method": "s4", "steps": 3, "guidance": 1.0}, num_samples=6, batch_size=4,
        generator=torch.Generator().manual_seed(0), out_dir=tmp_path, export_dir=tmp_path / "export",
    )  # fmt: skip
    assert out["nfe"] == 3
    lines = (tmp_path / "samples.smi").read_text().split()
    assert 0 < len(lines) <= 6
    tensors = load_file(str(tmp_path / "samples.safetensors"))
    assert tensors["samples"].shape == (6, 9, 4 + 9)
    assert tensors["cond.flags"].shape == (6, 9)
    metrics = MoleculeEvaluator(dm, nspdk=False)(tensors["samples"], {"flags": tensors["cond.flags"]})
    assert metrics["validity"] == len(lines) / 6
