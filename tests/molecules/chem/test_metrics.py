"""Molecule metrics with their stated denominators; the NSPDK MMD."""

from __future__ import annotations

import pytest
from rdkit import Chem

from condiff.molecules.chem.metrics import molecule_metrics
from condiff.molecules.chem.nspdk import mol_to_labelled_graph, nspdk_features, nspdk_mmd


def test_denominators() -> None:
    mols = [Chem.MolFromSmiles(s) for s in ("CCO", "CCO", "CCN")] + [None]
    m = molecule_metrics(mols, [True, False, True, False], train_smiles=["CCO"])
    assert m["validity_wo_correction"] == 0.5  # raw valid / all generated
    assert m["validity"] == 0.75  # valid after correction / all generated
    assert m["uniqueness"] == pytest.approx(2 / 3)  # distinct / valid
    assert m["novelty"] == 0.5  # distinct not in train / distinct


def test_nspdk_features_are_normalised_and_permutation_invariant() -> None:
    a = mol_to_labelled_graph(Chem.MolFromSmiles("CC(=O)NC"))
    b = mol_to_labelled_graph(Chem.MolFromSmiles("CNC(C)=O"))  # the same molecule, atoms in another order
    fa, fb = nspdk_features(a), nspdk_features(b)
    assert sum(v * v for v in fa.values()) == pytest.approx(1.0)
    assert fa.keys() == fb.keys()
    assert all(fa[k] == pytest.approx(fb[k]) for k in fa)


def test_nspdk_mmd_zero_for_equal_sets_and_grows_with_difference() -> None:
    g = [mol_to_labelled_graph(Chem.MolFromSmiles(s)) for s in ("CCO", "c1ccccc1", "CC(=O)O")]
    h = [mol_to_labelled_graph(Chem.MolFromSmiles(s)) for s in ("CCN", "c1ccncc1", "CC(=O)N")]
    far = [mol_to_labelled_graph(Chem.MolFromSmiles(s)) for s in ("FC(F)(F)F", "N#N", "O=O")]
    assert nspdk_mmd(g, g) == pytest.approx(0.0, abs=1e-12)
    assert 0 < nspdk_mmd(g, h) < nspdk_mmd(g, far)
