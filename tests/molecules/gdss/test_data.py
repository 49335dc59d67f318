"""GDSS data modules: batches, node-count sampling, molecule files and bad configuration values."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from condiff.core.errors import ConfigError, DataValidationError
from condiff.molecules.gdss.data import GraphDataModule, MoleculeDataModule


def test_graph_batches_and_flags() -> None:
    dm = GraphDataModule("community_small", max_nodes=20, num_features=10, batch_size=8)
    assert len(dm.train) == 80
    assert len(dm.test_graphs) == 20
    batch = next(iter(dm.train_dataloader()))
    assert batch["x0"].shape == (8, 20, 10)
    assert batch["adj"].shape == (8, 20, 20)
    assert batch["flags"].shape == (8, 20)
    flags = dm.sample_flags(5, seed=0)
    assert torch.equal(flags, dm.sample_flags(5, seed=0))
    assert set(flags.sum(1).tolist()) <= {float(g.number_of_nodes()) for g in dm.train_graphs}


def test_bad_values_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"task\.datamodule\.batch_size"):
        GraphDataModule(batch_size=0)
    with pytest.raises(ConfigError, match=r"task\.datamodule\.test_split"):
        GraphDataModule(test_split=1.5)
    with pytest.raises(ConfigError, match=r"task\.datamodule\.path"):
        MoleculeDataModule(source="csv")
    with pytest.raises(ConfigError, match=r"task\.datamodule\.source"):
        MoleculeDataModule(source="pubchem", path=__file__)


def test_molecule_csv_module(tmp_path: Path) -> None:
    f = tmp_path / "qm9.csv"
    f.write_text(
        "mol_id,SMILES1\n" + "\n".join(f"{i},{s}" for i, s in enumerate(["CCO", "C#N", "c1ccoc1", "CC(=O)N"] * 3))
    )
    dm = MoleculeDataModule(source="csv", path=str(f), column="SMILES1", batch_size=4, test_split=0.25)
    assert len(dm.train) == 9
    assert len(dm.test) == 3
    batch = next(iter(dm.train_dataloader()))
    assert batch["x0"].shape == (4, 9, 4)
    assert batch["adj"].max() <= 3
    f.write_text("SMILES1\nCCO\nnot_a_smiles\n")
    with pytest.raises(DataValidationError, match="line 3"):
        MoleculeDataModule(source="csv", path=str(f), column="SMILES1")
