"""SMILES <-> kekulized graphs (exact round trip on the built-in set) and GDSS's valency correction."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from condiff.molecules.chem.convert import (
    ATOM_SETS,
    MoleculeError,
    canonical_smiles,
    correct_valency,
    graph_to_mol,
    graphs_to_molecules,
    is_valid,
    smiles_to_graph,
)
from condiff.molecules.chem.datasets import builtin_qm9

QM9 = ATOM_SETS["qm9"]


def test_round_trip_is_exact_for_the_whole_builtin_set() -> None:
    smiles = builtin_qm9().smiles
    assert len(smiles) == 412
    graphs = [smiles_to_graph(s, QM9, 9) for s in smiles]
    x = torch.stack([g[0] for g in graphs])
    adj = torch.stack([g[1] for g in graphs])
    mols, raw = graphs_to_molecules(x, adj, (x.sum(-1) > 0).float(), QM9)
    assert all(raw)
    assert [canonical_smiles(m) for m in mols] == smiles


def test_bond_orders_are_kekulized_adjacency_values() -> None:
    x, adj = smiles_to_graph("c1ccccc1", QM9, 9)  # benzene: alternating 1 and 2
    assert sorted(adj[:6, :6][adj[:6, :6] > 0].tolist()) == [1.0] * 6 + [2.0] * 6
    assert torch.equal(adj, adj.T)
    assert x[:6, 0].sum() == 6
    assert x[6:].sum() == 0
    _, adj = smiles_to_graph("C#N", QM9, 9)
    assert adj[0, 1] == 3.0


def test_bad_molecules_say_why() -> None:
    with pytest.raises(MoleculeError, match="atom S is not in the vocabulary"):
        smiles_to_graph("CS", QM9, 9)
    with pytest.raises(MoleculeError, match="10 heavy atoms"):
        smiles_to_graph("CCCCCCCCCC", QM9, 9)
    with pytest.raises(MoleculeError, match="cannot parse"):
        smiles_to_graph("C1CC", QM9, 9)


def test_valency_correction_lowers_the_highest_order_bond() -> None:
    # carbon with a triple and a double bond (valence 5): the triple becomes a double
    bonds = np.zeros((3, 3), dtype=np.int64)
    bonds[0, 1] = bonds[1, 0] = 3
    bonds[0, 2] = bonds[2, 0] = 2
    mol = graph_to_mol([0, 0, 0], bonds, QM9)
    assert not is_valid(mol)
    fixed, valid_before = correct_valency(mol)
    assert not valid_before
    assert is_valid(fixed)
    assert canonical_smiles(fixed) == "C=C=C"


def test_four_valent_nitrogen_gets_a_positive_charge_as_in_gdss() -> None:
    bonds = np.zeros((5, 5), dtype=np.int64)
    for j in range(1, 5):
        bonds[0, j] = bonds[j, 0] = 1
    mol = graph_to_mol([1, 0, 0, 0, 0], bonds, QM9)
    assert is_valid(mol)
    assert mol.GetAtomWithIdx(0).GetFormalCharge() == 1


def test_nodes_without_a_confident_atom_type_are_not_atoms() -> None:
    x = torch.zeros(1, 3, 4)
    x[0, 0, 0] = x[0, 1, 2] = 1.0
    x[0, 2, 1] = 0.3  # below 0.5: GDSS treats the node as virtual
    adj = torch.zeros(1, 3, 3)
    adj[0, 0, 1] = adj[0, 1, 0] = 1.2
    adj[0, 1, 2] = adj[0, 2, 1] = 1.0
    mols, raw = graphs_to_molecules(x, adj, torch.ones(1, 3), QM9)
    assert raw == [True]
    assert Chem.MolToSmiles(mols[0]) == "CO"
