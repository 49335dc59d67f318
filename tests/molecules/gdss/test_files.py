"""Metrics of user files: a SMILES file or a GraphML folder against a reference set."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest

from condiff.core.errors import DataValidationError
from condiff.molecules.gdss.files import evaluate_graph_folder, evaluate_smiles_file, main, read_graphml_folder
from condiff.molecules.gdss.writer import write_graphml


def test_smiles_file_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gen, ref = tmp_path / "gen.smi", tmp_path / "ref.smi"
    gen.write_text("CCO\nCCO\nC1CC\nCCN\n")
    ref.write_text("CCO\nCCC\n")
    m = evaluate_smiles_file(gen, ref)
    assert m["validity"] == 0.75  # every line counts
    assert m["uniqueness"] == pytest.approx(2 / 3)
    assert m["novelty"] == 0.5
    assert m["nspdk_mmd"] > 0
    main(["--generated", str(gen), "--reference", str(ref)])
    assert json.loads(capsys.readouterr().out)["validity"] == 0.75


def test_graphml_folders(tmp_path: Path) -> None:
    write_graphml([nx.cycle_graph(6), nx.path_graph(5)], tmp_path / "gen")
    write_graphml([nx.cycle_graph(6), nx.path_graph(5)], tmp_path / "ref")
    assert all(
        v == pytest.approx(0.0, abs=1e-12) for v in evaluate_graph_folder(tmp_path / "gen", tmp_path / "ref").values()
    )
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.graphml").write_text("<graphml><oops")
    with pytest.raises(DataValidationError, match=r"x\.graphml: not a readable GraphML"):
        read_graphml_folder(tmp_path / "bad")
