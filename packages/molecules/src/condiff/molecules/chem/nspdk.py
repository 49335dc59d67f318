"""Neighborhood subgraph pairwise distance kernel (NSPDK, Costa & De Grave 2010) and its MMD.

GDSS reports the MMD of NSPDK features of generated and test molecules (node label: atom symbol, edge
label: bond order) computed with EDeN. This is a self-contained implementation of the same kernel: a
feature is a pair of rooted neighbourhood subgraphs of radius ``r <= radius`` whose roots are ``d <= distance``
apart; each neighbourhood is identified by a hash of its distance-labelled nodes and edges; counts are
L2-normalised per ``(r, d)`` block and then overall, and the kernel is the dot product. Its hashes are not
EDeN's, so values compare with each other and closely, not digit for digit, with EDeN-based papers.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence

import networkx as nx
import numpy as np
from rdkit import Chem
from scipy import sparse

from condiff.molecules.chem.convert import BOND_ORDERS


def _label(x: object) -> int:
    return zlib.crc32(str(x).encode())


def mol_to_labelled_graph(mol: Chem.Mol) -> nx.Graph:
    """networkx graph of a kekulized copy of ``mol``: node ``label`` = atom symbol, edge ``label`` = bond order."""
    m = Chem.Mol(mol)
    Chem.Kekulize(m, clearAromaticFlags=True)
    g = nx.Graph()
    for a in m.GetAtoms():
        g.add_node(a.GetIdx(), label=a.GetSymbol())
    for b in m.GetBonds():
        g.add_edge(b.GetBeginAtomIdx(), b.GetEndAtomIdx(), label=BOND_ORDERS.get(b.GetBondType(), 4))
    return g


def nspdk_features(g: nx.Graph, radius: int = 3, distance: int = 3) -> dict[tuple[int, int, int], float]:
    """Sparse NSPDK feature vector ``{(r, d, hash): value}`` of a labelled graph (normalised as EDeN)."""
    nodes = list(g.nodes())
    lab = {v: _label(g.nodes[v].get("label", "")) for v in nodes}
    dist = dict(nx.all_pairs_shortest_path_length(g))
    roots: dict[tuple[int, int], int] = {}
    for v in nodes:
        for r in range(radius + 1):
            hood = [u for u, d in dist[v].items() if d <= r]
            inv = {
                u: hash((dist[v][u], lab[u], tuple(sorted((dist[u].get(w, -1), lab[w]) for w in hood)))) for u in hood
            }
            edges = sorted(
                hash((min(inv[a], inv[b]), max(inv[a], inv[b]), _label(g.edges[a, b].get("label", ""))))
                for a, b in g.subgraph(hood).edges()
            )
            roots[v, r] = hash((tuple(sorted(inv.values())), tuple(edges)))
    counts: dict[tuple[int, int, int], float] = defaultdict(float)
    for u in nodes:
        for w, d in dist[u].items():
            if d > distance:
                continue
            for r in range(radius + 1):
                a, b = roots[u, r], roots[w, r]
                counts[r, d, hash((min(a, b), max(a, b)))] += 1.0
    blocks: dict[tuple[int, int], float] = defaultdict(float)
    for (r, d, _), c in counts.items():
        blocks[r, d] += c * c
    vec = {k: c / np.sqrt(blocks[k[0], k[1]]) for k, c in counts.items()}
    total = np.sqrt(sum(v * v for v in vec.values())) or 1.0
    return {k: v / total for k, v in vec.items()}


def _matrix(
    feats: Sequence[dict[tuple[int, int, int], float]], index: dict[tuple[int, int, int], int]
) -> sparse.csr_matrix:
    rows, cols, vals = [], [], []
    for i, f in enumerate(feats):
        for k, v in f.items():
            rows.append(i)
            cols.append(index.setdefault(k, len(index)))
            vals.append(v)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(feats), max(len(index), 1)))


def nspdk_mmd(ref: Sequence[nx.Graph], gen: Sequence[nx.Graph], radius: int = 3, distance: int = 3) -> float:
    """Squared MMD with the NSPDK (linear kernel on normalised features): ``E k(x,x') + E k(y,y') - 2 E k(x,y)``."""
    if not ref or not gen:
        raise ValueError("nspdk_mmd: both graph sets must be non-empty")
    fr = [nspdk_features(g, radius, distance) for g in ref]
    fg = [nspdk_features(g, radius, distance) for g in gen]
    index: dict[tuple[int, int, int], int] = {}
    x, y = _matrix(fr, index), _matrix(fg, index)
    n = len(index)
    x = sparse.csr_matrix((x.data, x.indices, x.indptr), shape=(x.shape[0], n))
    y = sparse.csr_matrix((y.data, y.indices, y.indptr), shape=(y.shape[0], n))
    kxx, kyy, kxy = (x @ x.T).mean(), (y @ y.T).mean(), (x @ y.T).mean()
    return float(kxx + kyy - 2 * kxy)
