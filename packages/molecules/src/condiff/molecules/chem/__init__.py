"""Molecule utilities shared by the molecule-domain methods: SMILES <-> graphs, valency correction, data, metrics."""

from condiff.molecules.chem.convert import (
    ATOM_SETS,
    MoleculeError,
    canonical_smiles,
    correct_valency,
    graph_to_mol,
    graphs_to_molecules,
    mol_to_graph,
    smiles_to_graph,
)

__all__ = [
    "ATOM_SETS",
    "MoleculeError",
    "canonical_smiles",
    "correct_valency",
    "graph_to_mol",
    "graphs_to_molecules",
    "mol_to_graph",
    "smiles_to_graph",
]
