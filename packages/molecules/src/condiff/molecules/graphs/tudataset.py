"""Graph sets in the TU Dortmund text format (ENZYMES, PROTEINS, DD), as GDSS's ``graph_load_batch`` reads them.

A folder ``<name>/`` holds ``<name>_A.txt`` (one ``i, j`` edge per line, 1-based node ids) and
``<name>_graph_indicator.txt`` (graph id of node ``i`` on line ``i``). Isolated nodes are removed and graphs
with ``min_nodes``-``max_nodes`` nodes kept (GDSS: ENZYMES with 10-1000 nodes, 587 graphs).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from condiff.core.errors import DataValidationError


def _read_ints(path: Path, columns: int) -> np.ndarray:
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found (TU data set folder)")
    rows = []
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != columns or not all(p.lstrip("-").isdigit() for p in parts):
            raise DataValidationError(
                f"{path}, line {line_no}: expected {columns} comma-separated integers, got {line!r}"
            )
        rows.append([int(p) for p in parts])
    return np.asarray(rows, dtype=np.int64).reshape(-1, columns)


def read_tu_dataset(
    folder: str | Path, name: str = "ENZYMES", min_nodes: int = 10, max_nodes: int = 1000
) -> list[nx.Graph]:
    """The graphs of a TU-format data set in ``folder`` (no pickles: plain text files only)."""
    folder = Path(folder)
    edges = _read_ints(folder / f"{name}_A.txt", 2)
    indicator = _read_ints(folder / f"{name}_graph_indicator.txt", 1)[:, 0]
    if edges.size and (edges.min() < 1 or edges.max() > len(indicator)):
        raise DataValidationError(f"{folder / f'{name}_A.txt'}: node ids must lie in 1..{len(indicator)}")
    g = nx.Graph()
    g.add_nodes_from(range(1, len(indicator) + 1))
    g.add_edges_from(map(tuple, edges.tolist()))
    g.remove_edges_from(nx.selfloop_edges(g))
    g.remove_nodes_from(list(nx.isolates(g)))
    nodes = np.arange(1, len(indicator) + 1)
    graphs = []
    for gid in range(1, int(indicator.max()) + 1):
        sub = g.subgraph([int(v) for v in nodes[indicator == gid] if v in g])
        if min_nodes <= sub.number_of_nodes() <= max_nodes:
            graphs.append(nx.convert_node_labels_to_integers(nx.Graph(sub)))
    return graphs
