"""Exact node orbit counts of graphlets with 2-4 nodes (the 15 orbits of ORCA, Hocevar & Demsar 2014).

Connected induced subgraphs of 3 and 4 nodes are enumerated once each with the ESU algorithm
(Wernicke 2006); every node of a subgraph gets the orbit of its position. Orbits: 0 degree; path P3
1 end / 2 centre; triangle 3; path P4 4 end / 5 inner; star 6 leaf / 7 centre; 4-cycle 8;
paw 9 pendant / 10 triangle degree-2 / 11 degree-3; diamond 12 degree-2 / 13 degree-3; K4 14.
Plain Python: fast enough for the graphs of GDSS's generic benchmarks (up to a few hundred nodes).
"""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx
import numpy as np

NUM_ORBITS = 15


def _connected_subsets(adj: list[set[int]], k: int) -> Iterator[tuple[int, ...]]:
    """Every connected node set of size ``k`` exactly once (ESU: each set is grown from its smallest node)."""

    def extend(sub: tuple[int, ...], ext: set[int], root: int, nbhd: set[int]) -> Iterator[tuple[int, ...]]:
        if len(sub) == k:
            yield sub
            return
        ext = set(ext)
        while ext:
            w = ext.pop()
            new = {u for u in adj[w] if u > root and u not in nbhd}
            yield from extend((*sub, w), ext | new, root, nbhd | adj[w] | {w})

    for v in range(len(adj)):
        yield from extend((v,), {u for u in adj[v] if u > v}, v, adj[v] | {v})


def orbit_counts(graph: nx.Graph) -> np.ndarray:
    """``(num_nodes, 15)`` orbit counts of every node (rows in ``graph.nodes()`` order)."""
    nodes = list(graph.nodes())
    index = {n: i for i, n in enumerate(nodes)}
    adj: list[set[int]] = [set() for _ in nodes]
    for a, b in graph.edges():
        if a != b:
            adj[index[a]].add(index[b])
            adj[index[b]].add(index[a])
    counts = np.zeros((len(nodes), NUM_ORBITS), dtype=np.int64)
    for i, nb in enumerate(adj):
        counts[i, 0] = len(nb)
    for sub in _connected_subsets(adj, 3):
        deg = [len(adj[u] & set(sub)) for u in sub]
        if sum(deg) == 6:
            for u in sub:
                counts[u, 3] += 1
        else:
            for u, d in zip(sub, deg, strict=True):
                counts[u, 1 if d == 1 else 2] += 1
    for sub in _connected_subsets(adj, 4):
        s = set(sub)
        deg = [len(adj[u] & s) for u in sub]
        edges = sum(deg) // 2
        for u, d in zip(sub, deg, strict=True):
            counts[u, _orbit4(edges, max(deg), d)] += 1
    return counts


def _orbit4(edges: int, max_deg: int, d: int) -> int:
    """Orbit of a node of degree ``d`` inside a connected 4-node graphlet with ``edges`` edges."""
    if edges == 3:
        if max_deg == 3:  # star
            return 7 if d == 3 else 6
        return 4 if d == 1 else 5  # path
    if edges == 4:
        if max_deg == 2:  # cycle
            return 8
        return {1: 9, 2: 10, 3: 11}[d]  # paw
    if edges == 5:  # diamond
        return 13 if d == 3 else 12
    return 14
