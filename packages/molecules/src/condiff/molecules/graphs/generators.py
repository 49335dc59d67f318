"""The generic graph data sets of GDSS / GraphRNN, regenerated with networkx from a seed.

``community_small`` and ``grid`` follow GDSS's ``data/data_generators.py``; ``ego_small`` is drawn from
radius-1 ego networks (4-18 nodes, 200 graphs) as GDSS takes them from Citeseer, here from a synthetic
power-law citation-like graph so that no download is needed.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import numpy as np

from condiff.core.errors import ConfigError


def two_communities(max_nodes: int, rng: np.random.Generator, p_inter: float = 0.05) -> nx.Graph:
    """Two ``G(n, 0.7)`` communities of ``max_nodes // 2`` nodes joined by random bridges (Niu et al. 2020).

    Each cross pair is a bridge with probability ``p_inter * 2 / size``; one bridge is forced when none was
    drawn. As in GDSS the communities use networkx seeds 0 and 1, so the bridges carry the randomness.
    """
    size = max_nodes // 2
    p_bridge = p_inter * 2 / size
    g = nx.disjoint_union_all([nx.gnp_random_graph(size, 0.7, seed=i) for i in range(2)])
    comps = [sorted(c) for c in nx.connected_components(g)]
    for i in range(len(comps)):
        for j in range(i + 1, len(comps)):
            bridged = False
            for n1 in comps[i]:
                for n2 in comps[j]:
                    if rng.random() < p_bridge:
                        g.add_edge(n1, n2)
                        bridged = True
            if not bridged:
                g.add_edge(comps[i][0], comps[j][0])
    return g


def community_small(num_graphs: int = 100, seed: int = 0) -> list[nx.Graph]:
    """GDSS's community_small: 100 two-community graphs of 12-20 nodes."""
    rng = np.random.default_rng(seed)
    return [two_communities(int(rng.integers(12, 21)), rng) for _ in range(num_graphs)]


def grid(num_graphs: int = 100, seed: int = 0, sizes: tuple[int, int] = (10, 20)) -> list[nx.Graph]:
    """GDSS's grid: 100 2-D grid graphs ``m x n`` with ``m, n`` uniform in ``[10, 20)`` (100-361 nodes)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(num_graphs):
        m, n = (int(v) for v in rng.integers(sizes[0], sizes[1], size=2))
        out.append(nx.convert_node_labels_to_integers(nx.grid_2d_graph(m, n)))
    return out


def ego_small(
    num_graphs: int = 200, seed: int = 0, min_nodes: int = 4, max_nodes: int = 18, host_nodes: int = 3000
) -> list[nx.Graph]:
    """Radius-1 ego networks of ``min_nodes``-``max_nodes`` nodes from a power-law cluster graph.

    GDSS takes the first 200 such ego nets of Citeseer's largest component; the host graph here
    (Holme-Kim, 2 edges per new node, triangle probability 0.3) has a similar sparse, clustered shape.
    """
    host = nx.powerlaw_cluster_graph(host_nodes, 2, 0.3, seed=seed)
    rng = np.random.default_rng(seed)
    out: list[nx.Graph] = []
    for i in rng.permutation(host_nodes):
        ego = nx.ego_graph(host, int(i), radius=1)
        if min_nodes <= ego.number_of_nodes() <= max_nodes:
            out.append(nx.convert_node_labels_to_integers(ego))
        if len(out) == num_graphs:
            break
    return out


GRAPH_DATASETS: dict[str, Callable[..., list[nx.Graph]]] = {
    "community_small": community_small,
    "grid": grid,
    "ego_small": ego_small,
}


def make_graphs(name: str, seed: int = 0, num_graphs: int | None = None, path: str | None = None) -> list[nx.Graph]:
    """The built-in graph data set ``name`` (one of :data:`GRAPH_DATASETS`), ``enzymes`` read from ``path``
    (a folder in the TU format, see :func:`~condiff.molecules.graphs.tudataset.read_tu_dataset`) or
    ``citeseer_ego`` (GDSS's ego_small from the Citeseer file(s) at ``path``, see
    :func:`~condiff.molecules.graphs.citeseer.citeseer_ego_small`)."""
    if name == "citeseer_ego":
        from condiff.molecules.graphs.citeseer import citeseer_ego_small

        if path is None:
            raise ConfigError(
                "config key 'task.datamodule.path' is missing: dataset 'citeseer_ego' reads ind.citeseer.graph "
                "or citeseer.cites"
            )
        return citeseer_ego_small(path, 200 if num_graphs is None else num_graphs)
    if name == "enzymes":
        from condiff.molecules.graphs.tudataset import read_tu_dataset

        if path is None:
            raise ConfigError("config key 'task.datamodule.path' is missing: dataset 'enzymes' reads the TU files")
        return read_tu_dataset(path, "ENZYMES", 10, 1000)
    if name not in GRAPH_DATASETS:
        raise ConfigError(
            f"config key 'dataset': unknown graph data set {name!r}; expected one of {sorted(GRAPH_DATASETS)}"
        )
    kwargs = {} if num_graphs is None else {"num_graphs": num_graphs}
    return GRAPH_DATASETS[name](seed=seed, **kwargs)
