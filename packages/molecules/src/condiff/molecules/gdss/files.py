"""Metrics of a user's file of generated graphs (GraphML folder) or molecules (SMILES file) against a reference.

    condiff-molecules-evaluate --generated gen.smi --reference test.smi [--train train.smi]
    condiff-molecules-evaluate --generated graphs/ --reference ref_graphs/ --kind graphs

For SMILES files validity is the parseable fraction of the file's lines (raw graphs are not available,
so there is no "without correction" figure); every line counts in the denominator.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
from rdkit import Chem

from condiff.core.errors import DataValidationError
from condiff.molecules.chem.datasets import read_smiles_lines
from condiff.molecules.chem.metrics import molecule_metrics
from condiff.molecules.graphs.mmd import graph_mmds


def read_graphml_folder(folder: str | Path) -> list[nx.Graph]:
    """Every ``*.graphml`` file of ``folder`` (sorted by name) as an undirected graph."""
    folder = Path(folder)
    files = sorted(folder.glob("*.graphml"))
    if not files:
        raise DataValidationError(f"{folder}: no .graphml files found")
    graphs = []
    for f in files:
        try:
            graphs.append(nx.Graph(nx.read_graphml(f)))
        except Exception as e:  # networkx raises several parser errors
            raise DataValidationError(f"{f}: not a readable GraphML file ({e})") from e
    return graphs


def evaluate_smiles_file(
    generated: str | Path, reference: str | Path, train: str | Path | None = None
) -> dict[str, float]:
    """Validity (parseable lines / all lines), uniqueness, novelty (vs ``train``, else ``reference``), NSPDK MMD."""
    lines = [ln.split()[0] for ln in Path(generated).read_text().splitlines() if ln.strip()]
    if not lines:
        raise DataValidationError(f"{generated}: no SMILES lines")
    mols = [Chem.MolFromSmiles(s) for s in lines]
    ref = read_smiles_lines(reference, skip_invalid=True).smiles
    known = read_smiles_lines(train, skip_invalid=True).smiles if train is not None else ref
    out = molecule_metrics(mols, [m is not None for m in mols], known, ref)
    out.pop("validity_wo_correction")
    return out


def evaluate_graph_folder(
    generated: str | Path, reference: str | Path, metrics: Sequence[str] = ("degree", "clustering", "orbit", "spectral")
) -> dict[str, float]:
    """Graph MMDs of a GraphML folder against a reference GraphML folder."""
    return graph_mmds(read_graphml_folder(reference), read_graphml_folder(generated), metrics)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="GDSS metrics of generated graphs / SMILES against a reference set")
    p.add_argument("--generated", required=True, help="SMILES file or folder of GraphML files")
    p.add_argument("--reference", required=True, help="reference SMILES file or GraphML folder")
    p.add_argument("--train", default=None, help="training SMILES (novelty); default: the reference")
    p.add_argument("--kind", choices=("smiles", "graphs"), default="smiles")
    args = p.parse_args(argv)
    if args.kind == "smiles":
        result = evaluate_smiles_file(args.generated, args.reference, args.train)
    else:
        result = evaluate_graph_folder(args.generated, args.reference)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
