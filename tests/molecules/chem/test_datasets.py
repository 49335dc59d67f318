"""Molecule files: invalid lines are reported with their line number, skipped only on request; MOSES from a wheel."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from condiff.core.errors import DataValidationError
from condiff.molecules.chem.convert import ATOM_SETS
from condiff.molecules.chem.datasets import builtin_nci, moses_from_wheel, read_smiles_csv, read_smiles_lines


def test_invalid_csv_line_is_named_with_its_line_number(tmp_path: Path) -> None:
    f = tmp_path / "qm9.csv"
    f.write_text("mol_id,SMILES1\n1,CCO\n2,C1CC\n3,c1ccccc1\n")
    with pytest.raises(DataValidationError, match=r"qm9.csv, line 3: invalid SMILES 'C1CC'"):
        read_smiles_csv(f, column="SMILES1")
    res = read_smiles_csv(f, column="smiles1", skip_invalid=True)
    assert res.smiles == ["CCO", "c1ccccc1"]
    assert res.skipped[0][:2] == (3, "C1CC")


def test_zinc_style_charges_are_dropped_and_vocabulary_enforced(tmp_path: Path) -> None:
    f = tmp_path / "zinc.csv.gz"
    f.write_bytes(gzip.compress(b"smiles,logP\nC[NH+](C)C,1.0\nCC(=O)[O-],0.5\nC[Se]C,0.1\n"))
    res = read_smiles_csv(f, atoms=ATOM_SETS["zinc250k"], max_atoms=38, skip_invalid=True)
    assert res.smiles == ["CN(C)C", "CC(=O)O"]
    assert res.skipped[0][0] == 4
    assert "vocabulary" in res.skipped[0][2]


def test_missing_column_and_corrupt_files(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("id,name\n1,x\n")
    with pytest.raises(DataValidationError, match="no SMILES column 'smiles'"):
        read_smiles_csv(f)
    g = tmp_path / "b.csv.gz"
    g.write_bytes(b"not gzip")
    with pytest.raises(DataValidationError, match=r"b\.csv\.gz: not a readable"):
        read_smiles_csv(g)


def test_smi_lines(tmp_path: Path) -> None:
    f = tmp_path / "gen.smi"
    f.write_text("CCO\n\nC1CC name\n")
    with pytest.raises(DataValidationError, match="line 3"):
        read_smiles_lines(f)


def test_moses_csv_is_read_from_inside_a_wheel(tmp_path: Path) -> None:
    wheel = tmp_path / "molsets-0.3.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("moses/dataset/data/train.csv.gz", gzip.compress(b"SMILES,SPLIT\nCCO,train\nc1ccncc1,train\n"))
    assert moses_from_wheel(wheel).smiles == ["CCO", "c1ccncc1"]
    with pytest.raises(DataValidationError, match="no MOSES split 'test'"):
        moses_from_wheel(wheel, split="test")


def test_builtin_zinc_vocabulary_set_is_larger_than_qm9() -> None:
    assert len(builtin_nci(ATOM_SETS["zinc250k"], 38).smiles) > len(builtin_nci(ATOM_SETS["qm9"], 9).smiles)
