"""SMILES <-> kekulized molecular graphs, and GDSS's valency correction (Jo et al. 2022, App. D.2).

A molecule of ``n <= N`` heavy atoms is a pair ``(X, A)``: ``X: (N, F)`` one-hot atom types over an
atom vocabulary (QM9: C, N, O, F; ZINC250k: C, N, O, F, P, S, Cl, Br, I), ``A: (N, N)`` symmetric with
the kekulized bond orders 1, 2, 3 as values (GDSS keeps them unscaled and quantizes at 0.5/1.5/2.5).
Hydrogens are implicit and formal charges are not encoded, as in GDSS; back-conversion gives N, O or
S one valence too many a +1 charge (``construct_mol``), then the correction lowers the highest-order
bond of an over-valent atom until RDKit accepts the molecule (``correct_mol``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from rdkit import Chem, RDLogger
from torch import Tensor

RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]

ATOM_SETS: dict[str, tuple[str, ...]] = {
    "qm9": ("C", "N", "O", "F"),
    "zinc250k": ("C", "N", "O", "F", "P", "S", "Cl", "Br", "I"),
}
BOND_TYPES = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}
BOND_ORDERS = {v: k for k, v in BOND_TYPES.items()}
# GDSS's ATOM_VALENCY: the neutral valence used to decide when N, O, S take a +1 charge.
NEUTRAL_VALENCE = {"C": 4, "N": 3, "O": 2, "F": 1, "P": 3, "S": 2, "Cl": 1, "Br": 1, "I": 1}


class MoleculeError(ValueError):
    """A SMILES string cannot be turned into a graph of the requested vocabulary and size (says why)."""


def canonical_smiles(mol: Chem.Mol) -> str:
    """RDKit's canonical isomeric SMILES."""
    return Chem.MolToSmiles(mol, isomericSmiles=True)


def mol_to_graph(mol: Chem.Mol, atoms: Sequence[str], max_atoms: int) -> tuple[Tensor, Tensor]:
    """``(X: (max_atoms, F), A: (max_atoms, max_atoms))`` of a molecule, kekulized, hydrogens implicit."""
    mol = Chem.Mol(mol)
    Chem.Kekulize(mol, clearAromaticFlags=True)
    n = mol.GetNumAtoms()
    if n > max_atoms:
        raise MoleculeError(f"{n} heavy atoms, more than max_atoms={max_atoms}")
    index = {s: i for i, s in enumerate(atoms)}
    x = torch.zeros(max_atoms, len(atoms))
    for a in mol.GetAtoms():
        if a.GetSymbol() not in index:
            raise MoleculeError(f"atom {a.GetSymbol()} is not in the vocabulary {tuple(atoms)}")
        x[a.GetIdx(), index[a.GetSymbol()]] = 1.0
    adj = torch.zeros(max_atoms, max_atoms)
    for b in mol.GetBonds():
        order = BOND_ORDERS.get(b.GetBondType())
        if order is None:
            raise MoleculeError(f"bond type {b.GetBondType()} is not single, double or triple")
        i, j = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
        adj[i, j] = adj[j, i] = float(order)
    return x, adj


def smiles_to_graph(smiles: str, atoms: Sequence[str], max_atoms: int) -> tuple[Tensor, Tensor]:
    """:func:`mol_to_graph` of a SMILES string; :class:`MoleculeError` if RDKit cannot parse it."""
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise MoleculeError(f"RDKit cannot parse SMILES {smiles!r}")
    return mol_to_graph(mol, atoms, max_atoms)


def _valence(atom: Chem.Atom) -> int:
    return int(sum(BOND_ORDERS.get(b.GetBondType(), 1) for b in atom.GetBonds()))


def _permitted(atom: Chem.Atom) -> int:
    sym = atom.GetSymbol()
    if atom.GetFormalCharge() == 1 and sym in ("N", "O", "S"):
        return NEUTRAL_VALENCE[sym] + 1
    return max(v for v in Chem.GetPeriodicTable().GetValenceList(atom.GetAtomicNum()))


def is_valid(mol: Chem.Mol) -> bool:
    """Whether RDKit sanitizes the molecule (valences, kekulization) without error."""
    try:
        Chem.SanitizeMol(Chem.Mol(mol))
    except Exception:  # RDKit raises several exception types for bad valences / kekulization
        return False
    return True


def graph_to_mol(atom_types: Sequence[int], bonds: np.ndarray, atoms: Sequence[str]) -> Chem.RWMol:
    """Unsanitized molecule of atom type indices (``-1``: no atom) and integer bond orders ``(N, N)``.

    As GDSS's ``construct_mol``: N, O or S whose bond orders exceed the neutral valence by exactly 1 get
    a +1 formal charge.
    """
    mol = Chem.RWMol()
    ids: dict[int, int] = {}
    for i, t in enumerate(atom_types):
        if t >= 0:
            ids[i] = mol.AddAtom(Chem.Atom(atoms[int(t)]))
    for i in ids:
        for j in ids:
            if i < j and int(bonds[i, j]) > 0:
                mol.AddBond(ids[i], ids[j], BOND_TYPES[min(int(bonds[i, j]), 3)])
    for a in mol.GetAtoms():
        sym = a.GetSymbol()
        if sym in ("N", "O", "S") and _valence(a) - NEUTRAL_VALENCE[sym] == 1:
            a.SetFormalCharge(1)
    return mol


def correct_valency(mol: Chem.RWMol) -> tuple[Chem.RWMol, bool]:
    """GDSS's ``correct_mol``: while an atom is over-valent, lower its highest-order bond by one.

    Returns the corrected molecule and whether it was valid before any correction.
    """
    mol = Chem.RWMol(mol)
    valid_before = is_valid(mol)
    for _ in range(4 * mol.GetNumBonds() + 1):
        if is_valid(mol):
            break
        excess = [(_valence(a) - _permitted(a), a.GetIdx()) for a in mol.GetAtoms()]
        worst, idx = max(excess) if excess else (0, -1)
        if worst <= 0:
            break  # not a valence problem (e.g. kekulization): leave it to the validity check
        bonds = sorted(
            mol.GetAtomWithIdx(idx).GetBonds(), key=lambda b: BOND_ORDERS.get(b.GetBondType(), 1), reverse=True
        )
        b = bonds[0]
        i, j, order = b.GetBeginAtomIdx(), b.GetEndAtomIdx(), BOND_ORDERS.get(b.GetBondType(), 1)
        mol.RemoveBond(i, j)
        if order > 1:
            mol.AddBond(i, j, BOND_TYPES[order - 1])
    return mol, valid_before


def largest_fragment(mol: Chem.Mol) -> Chem.Mol | None:
    """GDSS's ``valid_mol_can_with_seg``: the largest fragment of a valid molecule, re-parsed; ``None`` if invalid."""
    if not is_valid(mol):
        return None
    smiles = canonical_smiles(mol)
    if "." in smiles:
        smiles = max(smiles.split("."), key=len)
    return Chem.MolFromSmiles(smiles)


def graphs_to_molecules(
    x: Tensor, adj: Tensor, flags: Tensor, atoms: Sequence[str], correct: bool = True
) -> tuple[list[Chem.Mol | None], list[bool]]:
    """Molecules of generated ``x: (B, N, F)``, ``adj: (B, N, N)`` (continuous), ``flags: (B, N)``.

    Atom type = argmax of ``x`` on real nodes with some entry above 0.5 (else no atom); bonds = ``adj``
    quantized at 0.5 / 1.5 / 2.5 (GDSS ``quantize_mol``). Returns, per graph, the (corrected,
    largest-fragment) molecule or ``None``, and whether the raw graph was a valid molecule without correction.
    """
    exists = flags.bool() & (x.max(-1).values > 0.5)  # GDSS: a node without any feature > 0.5 is no atom
    types = torch.where(exists, x.argmax(-1), torch.full(flags.shape, -1, dtype=torch.long, device=x.device))
    bonds = torch.bucketize(adj.detach().cpu().contiguous(), torch.tensor([0.5, 1.5, 2.5]), right=True).numpy()
    mols: list[Chem.Mol | None] = []
    raw_valid: list[bool] = []
    for t, bnd in zip(types.cpu().tolist(), bonds, strict=True):
        mol = graph_to_mol(t, bnd, atoms)
        if correct:
            mol, ok = correct_valency(mol)
        else:
            ok = is_valid(mol)
        raw_valid.append(ok)
        mols.append(largest_fragment(mol) if (correct or ok) else None)
    return mols, raw_valid
