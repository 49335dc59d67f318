"""Evaluators of generated graphs and molecules against a data module's held-out set (mean ± std helpers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from torch import Tensor

from condiff.core.errors import DataValidationError
from condiff.molecules.chem.convert import canonical_smiles, graphs_to_molecules
from condiff.molecules.chem.metrics import molecule_metrics
from condiff.molecules.gdss.process import unpack
from condiff.molecules.gdss.sampling import GraphSamples
from condiff.molecules.graphs.mmd import graph_mmds
from condiff.molecules.graphs.tensors import quantize_adjacency, tensors_to_graphs


def as_graph_samples(samples: GraphSamples | Tensor, cond: Mapping[str, Any], num_features: int) -> GraphSamples:
    """:class:`GraphSamples` of a module's result or of a packed samples tensor ``[X | A]`` with ``cond["flags"]``."""
    if isinstance(samples, GraphSamples):
        return samples
    if "flags" not in cond:
        raise DataValidationError("graph samples: the samples file has no 'cond.flags' tensor (node flags)")
    flags = cond["flags"]
    if samples.ndim != 3 or samples.shape[-1] != num_features + samples.shape[1] or flags.shape != samples.shape[:2]:
        raise DataValidationError(
            f"graph samples: expected packed [X | A] of shape (B, N, {num_features} + N) and flags (B, N), "
            f"got {tuple(samples.shape)} and {tuple(flags.shape)}"
        )
    x, adj = unpack(samples, num_features)
    return GraphSamples(x=x, adj=adj, flags=flags.float(), nfe=0)


class GraphMMDEvaluator:
    """Degree / clustering / orbit / spectral MMD of quantized samples against ``datamodule.test_graphs``."""

    def __init__(
        self,
        datamodule: Any,
        metrics: Sequence[str] = ("degree", "clustering", "orbit", "spectral"),
        threshold: float = 0.5,
    ) -> None:
        self.datamodule, self.metrics, self.threshold = datamodule, tuple(metrics), float(threshold)

    def graphs(self, samples: GraphSamples | Tensor, cond: Mapping[str, Any] | None = None) -> list[Any]:
        s = as_graph_samples(samples, cond or {}, self.datamodule.num_features)
        return tensors_to_graphs(quantize_adjacency(s.adj, self.threshold), s.flags)

    def __call__(self, samples: GraphSamples | Tensor, cond: Mapping[str, Any]) -> dict[str, float]:
        return graph_mmds(self.datamodule.test_graphs, self.graphs(samples, cond), self.metrics)


class MoleculeEvaluator:
    """Validity w/o correction, validity, uniqueness, novelty (vs training SMILES), NSPDK MMD and FCD (vs test)."""

    def __init__(self, datamodule: Any, nspdk: bool = True, fcd: bool = True) -> None:
        self.datamodule, self.nspdk, self.fcd = datamodule, bool(nspdk), bool(fcd)

    def smiles(
        self, samples: GraphSamples | Tensor, cond: Mapping[str, Any] | None = None
    ) -> tuple[list[str | None], list[bool]]:
        """Canonical SMILES of each sample (``None`` if invalid after correction) and raw validity."""
        s = as_graph_samples(samples, cond or {}, self.datamodule.num_features)
        mols, raw = graphs_to_molecules(s.x, s.adj, s.flags, self.datamodule.atoms)
        return [None if m is None else canonical_smiles(m) for m in mols], raw

    def __call__(self, samples: GraphSamples | Tensor, cond: Mapping[str, Any]) -> dict[str, float]:
        s = as_graph_samples(samples, cond, self.datamodule.num_features)
        mols, raw = graphs_to_molecules(s.x, s.adj, s.flags, self.datamodule.atoms)
        test = self.datamodule.test_smiles if self.nspdk else None
        return molecule_metrics(mols, raw, self.datamodule.train_smiles, test, fcd=self.fcd)


def mean_std(runs: Sequence[Mapping[str, float]]) -> dict[str, tuple[float, float]]:
    """``{metric: (mean, std)}`` over runs with different seeds (population std, ``ddof=0``)."""
    if not runs:
        raise ValueError("mean_std: no runs")
    keys = runs[0].keys()
    return {k: (float(np.mean([r[k] for r in runs])), float(np.std([r[k] for r in runs]))) for k in keys}
