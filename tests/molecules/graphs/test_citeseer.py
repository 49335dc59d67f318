"""Citeseer ego nets from the user's files: Planetoid adjacency pickle (restricted) and LINQS .cites text."""

from __future__ import annotations

import collections
import os
import pickle
from pathlib import Path

import networkx as nx
import pytest

from condiff.core.errors import DataValidationError
from condiff.molecules.graphs.citeseer import ego_networks, read_citation_graph
from condiff.molecules.graphs.generators import make_graphs


def _host() -> nx.Graph:
    g = nx.powerlaw_cluster_graph(300, 2, 0.3, seed=3)
    g.add_edge(1000, 1001)  # a second component: ego nets come from the largest one only
    g.add_edge(5, 5)  # a self loop, removed from the ego nets
    return g


def _write_planetoid(g: nx.Graph, path: Path) -> None:
    adjacency: collections.defaultdict[int, list[int]] = collections.defaultdict(list)
    for u in g.nodes:
        adjacency[u] = list(g.neighbors(u))
    path.write_bytes(pickle.dumps(adjacency, protocol=2))  # Planetoid's files are protocol-2 pickles


def test_planetoid_and_linqs_files_give_the_ego_nets_of_the_largest_component(tmp_path: Path) -> None:
    g = _host()
    _write_planetoid(g, tmp_path / "ind.citeseer.graph")
    (tmp_path / "linqs").mkdir()
    (tmp_path / "linqs" / "citeseer.cites").write_text("".join(f"p{u}\tp{v}\n" for u, v in g.edges))
    from_pickle = read_citation_graph(tmp_path)
    from_text = read_citation_graph(tmp_path / "linqs")
    assert nx.is_isomorphic(from_pickle, g)
    assert nx.is_isomorphic(from_text, g.subgraph([n for n in g if g.degree(n) > 0]))
    egos = make_graphs("citeseer_ego", path=str(tmp_path), num_graphs=50)
    # expected: radius-1 ego nets of nodes 0.. of the largest component (node order of the file), 4-18 nodes
    lcc = nx.convert_node_labels_to_integers(g.subgraph(max(nx.connected_components(g), key=len)))
    expected = []
    for i in range(lcc.number_of_nodes()):
        e = nx.Graph(nx.ego_graph(lcc, i, radius=1))
        if 4 <= e.number_of_nodes() <= 18:
            e.remove_edges_from(nx.selfloop_edges(e))
            expected.append(e)
    assert len(egos) == 50
    assert all(nx.is_isomorphic(a, b) for a, b in zip(egos, expected[:50], strict=True))
    assert all(nx.number_of_selfloops(e) == 0 and 4 <= e.number_of_nodes() <= 18 for e in egos)
    assert len(ego_networks(from_text, num_graphs=None)) == len(expected)


class _Exploit:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.getcwd, ())


def test_a_pickle_with_other_objects_is_refused_and_bad_lines_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "ind.citeseer.graph"
    bad.write_bytes(pickle.dumps({0: [_Exploit()]}, protocol=2))
    with pytest.raises(DataValidationError, match=r"ind\.citeseer\.graph: not a Planetoid adjacency pickle .*refusing"):
        read_citation_graph(bad)
    bad.write_bytes(b"garbage")
    with pytest.raises(DataValidationError, match=r"ind\.citeseer\.graph: not a Planetoid"):
        read_citation_graph(bad)
    cites = tmp_path / "citeseer.cites"
    cites.write_text("a\tb\nc d e\n")
    with pytest.raises(DataValidationError, match=r"citeseer\.cites, line 2"):
        read_citation_graph(cites)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match="empty: holds neither"):
        read_citation_graph(tmp_path / "empty")
    with pytest.raises(DataValidationError, match="missing: file not found"):
        read_citation_graph(tmp_path / "missing")
