"""Citeseer ego networks (GDSS ``ego_small``: radius 1, 4-18 nodes, the first 200) from the user's Citeseer files.

Two file formats are read:

- Planetoid's ``ind.citeseer.graph`` (what GDSS / GraphRNN load): a Python-2 pickle of a
  ``defaultdict(list)`` from node index to neighbour indices. It is read by a restricted unpickler that
  only builds ``defaultdict``, ``dict``, ``list`` and ints; any other object in the file is an error
  (a pickle can run code, so nothing else is constructed).
- LINQS' ``citeseer.cites``: one ``<cited> <citing>`` pair of paper ids per line (tab or space separated).

The ego nets follow GDSS ``citeseer_ego``: the largest connected component, nodes relabelled 0..n-1 in
their order in the file, ``nx.ego_graph(G, i, radius)`` for each ``i`` in that order, kept when it has
``node_min``-``node_max`` nodes, self loops removed. With the Planetoid file this is GDSS's node order;
the LINQS file orders papers differently, so its first 200 ego nets are a different sample of the same
population.
"""

from __future__ import annotations

import collections
import pickle
from pathlib import Path
from typing import Any

import networkx as nx

from condiff.core.errors import DataValidationError

PLANETOID_FILE = "ind.citeseer.graph"
LINQS_FILE = "citeseer.cites"


class _AdjacencyUnpickler(pickle.Unpickler):
    """Builds only ``defaultdict(list)`` / dict / list / int; refuses every other global."""

    # Python-2 pickles name the builtins module ``__builtin__`` (overriding find_class skips that mapping).
    _allowed = {("collections", "defaultdict")} | {
        (m, n) for m in ("builtins", "__builtin__") for n in ("list", "dict")
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._allowed:
            return {"defaultdict": collections.defaultdict, "list": list, "dict": dict}[name]
        raise pickle.UnpicklingError(f"refusing to build {module}.{name}: only an adjacency dict is expected")


def read_planetoid_graph(path: str | Path) -> nx.Graph:
    """The citation graph of a Planetoid ``ind.<name>.graph`` file (node index -> neighbour list)."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found (Planetoid adjacency file)")
    try:
        with path.open("rb") as f:
            adjacency = _AdjacencyUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as e:
        raise DataValidationError(f"{path}: not a Planetoid adjacency pickle ({e})") from e
    if not isinstance(adjacency, dict) or not all(
        isinstance(k, int) and isinstance(v, list) and all(isinstance(u, int) for u in v) for k, v in adjacency.items()
    ):
        raise DataValidationError(f"{path}: expected a dict from node index to a list of node indices")
    return nx.from_dict_of_lists(adjacency)


def read_linqs_cites(path: str | Path) -> nx.Graph:
    """The undirected citation graph of a LINQS ``.cites`` file (``<cited> <citing>`` per line)."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found (LINQS .cites file)")
    g = nx.Graph()
    for line_no, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise DataValidationError(f"{path}, line {line_no}: expected '<cited> <citing>', got {line!r}")
        g.add_edge(parts[0], parts[1])
    if g.number_of_edges() == 0:
        raise DataValidationError(f"{path}: no citations")
    return g


def read_citation_graph(path: str | Path) -> nx.Graph:
    """A Planetoid ``ind.citeseer.graph`` or LINQS ``citeseer.cites`` file, or a folder holding one of them."""
    path = Path(path)
    if path.is_dir():
        for name in (PLANETOID_FILE, LINQS_FILE):
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise DataValidationError(f"{path}: holds neither {PLANETOID_FILE} nor {LINQS_FILE}")
    if path.suffix == ".cites":
        return read_linqs_cites(path)
    return read_planetoid_graph(path)


def ego_networks(
    host: nx.Graph, radius: int = 1, node_min: int = 4, node_max: int = 18, num_graphs: int | None = 200
) -> list[nx.Graph]:
    """Ego nets of the largest component of ``host`` with ``node_min``-``node_max`` nodes, in node order."""
    if host.number_of_nodes() == 0:
        raise DataValidationError("ego_networks: the host graph is empty")
    lcc = host.subgraph(max(nx.connected_components(host), key=len))
    g = nx.convert_node_labels_to_integers(lcc)
    out: list[nx.Graph] = []
    for i in range(g.number_of_nodes()):
        ego = nx.Graph(nx.ego_graph(g, i, radius=radius))
        if node_min <= ego.number_of_nodes() <= node_max:
            ego.remove_edges_from(nx.selfloop_edges(ego))
            out.append(nx.convert_node_labels_to_integers(ego))
            if num_graphs is not None and len(out) == num_graphs:
                break
    return out


def citeseer_ego_small(path: str | Path, num_graphs: int = 200) -> list[nx.Graph]:
    """GDSS's ``ego_small`` from the user's Citeseer file(s): radius 1, 4-18 nodes, the first ``num_graphs``."""
    graphs = ego_networks(read_citation_graph(path), 1, 4, 18, num_graphs)
    if not graphs:
        raise DataValidationError(f"{path}: no ego network of 4-18 nodes")
    return graphs
