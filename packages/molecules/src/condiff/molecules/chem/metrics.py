"""Molecule generation metrics of GDSS: validity without correction, validity, uniqueness, novelty, NSPDK MMD.

Denominators (stated because papers differ): validity without correction = raw valid graphs / all
generated graphs (GDSS Table 3, ``num_no_correct / num_samples``); validity = molecules valid after
correction / all generated; uniqueness = distinct canonical SMILES / valid molecules; novelty = distinct
valid SMILES not in the training set / distinct valid SMILES (MOSES). FCD (``condiff.molecules.chem.fcd``)
compares the valid molecules' canonical SMILES with the test SMILES through the ChemNet weights shipped in
the ``fcd`` wheel (GDSS's protocol); nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem

from condiff.molecules.chem.convert import canonical_smiles
from condiff.molecules.chem.fcd import frechet_chemnet_distance
from condiff.molecules.chem.nspdk import mol_to_labelled_graph, nspdk_mmd


def molecule_metrics(
    mols: Sequence[Chem.Mol | None],
    raw_valid: Sequence[bool],
    train_smiles: Sequence[str],
    test_smiles: Sequence[str] | None = None,
    fcd: bool = True,
) -> dict[str, float]:
    """Metrics of generated molecules (``None`` = invalid) against the training and test SMILES.

    With ``test_smiles``: NSPDK MMD and (if ``fcd`` and >= 2 valid molecules) FCD against them.
    """
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
        if fcd and len(smiles) >= 2:
            out["fcd"] = frechet_chemnet_distance(smiles, test_smiles)
    return out
