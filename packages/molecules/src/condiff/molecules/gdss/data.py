"""Lightning data modules of GDSS's graph and molecule sets: batches ``{"x0": X, "adj": A, "flags": flags}``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import networkx as nx
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from condiff.core.errors import ConfigError, DataValidationError
from condiff.molecules.chem.convert import ATOM_SETS, MoleculeError, smiles_to_graph
from condiff.molecules.chem.datasets import SmilesSet, builtin_nci, moses_from_wheel, read_smiles_csv, read_smiles_lines
from condiff.molecules.graphs.generators import make_graphs
from condiff.molecules.graphs.tensors import degree_features, graphs_to_adjacency, node_flags


class GraphTensors(Dataset[dict[str, Tensor]]):
    """Padded graphs as a dataset of ``{"x0": (N, F), "adj": (N, N), "flags": (N,)}``."""

    def __init__(self, x: Tensor, adj: Tensor, flags: Tensor) -> None:
        self.x, self.adj, self.flags = x, adj, flags

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        return {"x0": self.x[i], "adj": self.adj[i], "flags": self.flags[i]}


class _GraphDataModule(L.LightningDataModule):
    """Shared loaders and node-count sampling; subclasses fill ``train`` and ``test``."""

    train: GraphTensors
    test: GraphTensors
    num_features: int

    def __init__(self, batch_size: int, seed: int) -> None:
        super().__init__()
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"config key 'task.datamodule.batch_size' has a bad value {batch_size!r}: expected >= 1")
        self.batch_size, self.seed = batch_size, int(seed)

    def train_dataloader(self) -> DataLoader[dict[str, Tensor]]:
        g = torch.Generator().manual_seed(self.seed)
        return DataLoader(self.train, batch_size=self.batch_size, shuffle=True, generator=g, drop_last=False)

    def val_dataloader(self) -> DataLoader[dict[str, Tensor]]:
        return DataLoader(self.test, batch_size=self.batch_size, shuffle=False)

    def sample_flags(self, n: int, seed: int = 0) -> Tensor:
        """Node flags of ``n`` training graphs drawn with replacement (GDSS ``init_flags``): the sizes to generate."""
        g = torch.Generator().manual_seed(int(seed))
        idx = torch.randint(len(self.train), (n,), generator=g)
        return self.train.flags[idx].clone()


class GraphDataModule(_GraphDataModule):
    """A generic graph set of GDSS (``community_small``, ``grid``, ``ego_small``) regenerated from ``data_seed``,
    ``enzymes`` read from the TU-format folder ``path``, or ``citeseer_ego`` (GDSS's ego_small from the
    user's Citeseer ``ind.citeseer.graph`` / ``citeseer.cites`` at ``path``).

    As GDSS: the first ``test_split`` fraction of the generated list is the test set, node features are the
    one-hot degree (``init: deg``) of width ``num_features``, graphs are padded to ``max_nodes``.
    """

    def __init__(
        self,
        dataset: str = "community_small",
        max_nodes: int = 20,
        num_features: int = 10,
        batch_size: int = 128,
        test_split: float = 0.2,
        num_graphs: int | None = None,
        seed: int = 0,
        data_seed: int = 0,
        path: str | None = None,
    ) -> None:
        super().__init__(batch_size, seed)
        if not 0 < test_split < 1:
            raise ConfigError(
                f"config key 'task.datamodule.test_split' has a bad value {test_split!r}: expected (0, 1)"
            )
        graphs = make_graphs(dataset, seed=data_seed, num_graphs=num_graphs, path=path)
        n_test = int(test_split * len(graphs))
        self.dataset, self.max_nodes, self.num_features = dataset, max_nodes, num_features
        self.test_graphs: list[nx.Graph] = graphs[:n_test]
        self.train_graphs: list[nx.Graph] = graphs[n_test:]
        self.train = self._tensors(self.train_graphs)
        self.test = self._tensors(self.test_graphs)

    def _tensors(self, graphs: Sequence[nx.Graph]) -> GraphTensors:
        adj = graphs_to_adjacency(graphs, self.max_nodes)
        return GraphTensors(degree_features(adj, self.num_features), adj, node_flags(adj))


def load_smiles(
    source: str,
    path: str | None = None,
    column: str = "smiles",
    skip_invalid: bool = False,
    atoms: Sequence[str] = ATOM_SETS["qm9"],
    max_atoms: int = 9,
    split: str = "train",
) -> SmilesSet:
    """SMILES of a molecule source: ``nci`` (built in: RDKit's NCI sample filtered to ``atoms``/``max_atoms``),
    ``csv`` (QM9 / ZINC250k files), ``smi`` (one per line), ``moses_wheel`` (a downloaded ``molsets`` wheel)."""
    if source == "nci":
        return builtin_nci(atoms, max_atoms)
    if path is None:
        raise ConfigError(f"config key 'task.datamodule.path' is missing: source {source!r} reads a file")
    if not Path(path).exists():
        raise DataValidationError(f"{path}: file not found (config key 'task.datamodule.path')")
    if source == "csv":
        return read_smiles_csv(path, column, skip_invalid, atoms, max_atoms)
    if source == "smi":
        return read_smiles_lines(path, skip_invalid)
    if source == "moses_wheel":
        return moses_from_wheel(path, split, skip_invalid, atoms, max_atoms)
    raise ConfigError(
        f"config key 'task.datamodule.source' has a bad value {source!r}: expected nci, csv, smi or moses_wheel"
    )


class MoleculeDataModule(_GraphDataModule):
    """Molecules as GDSS graphs: one-hot atom types ``(N, |atoms|)``, kekulized bond orders as adjacency values.

    Args:
        source, path, column, skip_invalid, split: see :func:`load_smiles`.
        atoms: atom vocabulary (``qm9`` or ``zinc250k`` of :data:`ATOM_SETS`, or a list of symbols).
        max_atoms: padded size ``N`` (QM9 9, ZINC250k 38).
        test_split: held-out fraction (a seeded permutation decides which molecules).
    """

    def __init__(
        self,
        source: str = "nci",
        path: str | None = None,
        column: str = "smiles",
        atoms: str | Sequence[str] = "qm9",
        max_atoms: int = 9,
        batch_size: int = 128,
        test_split: float = 0.1,
        skip_invalid: bool = False,
        split: str = "train",
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, seed)
        self.atoms = tuple(ATOM_SETS[atoms]) if isinstance(atoms, str) else tuple(atoms)
        self.max_atoms, self.num_features = max_atoms, len(self.atoms)
        smiles = load_smiles(source, path, column, skip_invalid, self.atoms, max_atoms, split)
        self.skipped = smiles.skipped
        perm = torch.randperm(len(smiles.smiles), generator=torch.Generator().manual_seed(self.seed)).tolist()
        n_test = int(test_split * len(perm))
        self.test_smiles = [smiles.smiles[i] for i in perm[:n_test]]
        self.train_smiles = [smiles.smiles[i] for i in perm[n_test:]]
        self.train = self._tensors(self.train_smiles, smiles.source)
        self.test = self._tensors(self.test_smiles, smiles.source)

    def _tensors(self, smiles: Sequence[str], source: str) -> GraphTensors:
        xs, adjs = [], []
        for s in smiles:
            try:
                x, a = smiles_to_graph(s, self.atoms, self.max_atoms)
            except MoleculeError as e:
                raise DataValidationError(f"{source}: molecule {s!r}: {e}") from e
            xs.append(x)
            adjs.append(a)
        if not xs:
            raise DataValidationError(f"{source}: no molecules left for this split")
        x = torch.stack(xs)
        return GraphTensors(x, torch.stack(adjs), (x.sum(-1) > 0).float())

    def describe(self) -> dict[str, Any]:
        return {"train": len(self.train), "test": len(self.test), "atoms": self.atoms, "skipped": len(self.skipped)}
