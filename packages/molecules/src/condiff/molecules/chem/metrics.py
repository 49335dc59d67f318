"""Molecule generation metrics of GDSS: validity without correction, validity, uniqueness, novelty, NSPDK MMD.

Denominators (stated because papers differ): validity without correction = raw valid graphs / all
generated graphs (GDSS Table 3, ``num_no_correct / num_samples``); validity = molecules valid after
correction / all generated; uniqueness = distinct canonical SMILES / valid molecules; novelty = distinct
valid SMILES not in the training set / distinct valid SMILES (MOSES). FCD needs ChemNet weights, which
are never downloaded: it is reported only when a local weights file is given (not implemented here).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem

from condiff.molecules.chem.convert import canonical_smiles
from condiff.molecules.chem.nspdk import mol_to_labelled_graph, nspdk_mmd


def molecule_metrics(
    mols: Sequence[Chem.Mol | None],
    raw_valid: Sequence[bool],
    train_smiles: Sequence[str],
    test_smiles: Sequence[str] | None = None,
) -> dict[str, float]:
    """Metrics of generated molecules (``None`` = invalid) against the training and test SMILES."""
    n = len(mols)
    if n == 0 or len(raw_valid) != n:
        raise ValueError(
            f"molecule_metrics: need as many raw-validity flags as molecules, got {len(raw_valid)} and {n}"
        )
    valid = [m for m in mols if m is not None]
    smiles = [canonical_smiles(m) for m in valid]
    unique = set(smiles)
    train = set(train_smiles)
    out = {
        "validity_wo_correction": float(np.mean(raw_valid)),
        "validity": len(valid) / n,
        "uniqueness": len(unique) / len(valid) if valid else 0.0,
        "novelty": len(unique - train) / len(unique) if unique else 0.0,
    }
    if test_smiles and valid:
        ref = [Chem.MolFromSmiles(s) for s in test_smiles]
        out["nspdk_mmd"] = nspdk_mmd(
            [mol_to_labelled_graph(m) for m in ref if m is not None], [mol_to_labelled_graph(m) for m in valid]
        )
    return out
