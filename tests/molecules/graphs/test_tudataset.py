"""ENZYMES-style TU text files: graphs split by the indicator, isolated nodes dropped, bad lines named."""

from __future__ import annotations

from pathlib import Path

import pytest

from condiff.core.errors import DataValidationError
from condiff.molecules.graphs.generators import make_graphs
from condiff.molecules.graphs.tudataset import read_tu_dataset


def _write(folder: Path, edges: str, indicator: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "ENZYMES_A.txt").write_text(edges)
    (folder / "ENZYMES_graph_indicator.txt").write_text(indicator)


def test_graphs_are_split_by_indicator(tmp_path: Path) -> None:
    # graph 1: triangle 1-2-3 plus isolated node 4; graph 2: path 5-6-7
    _write(tmp_path, "1, 2\n2, 3\n3, 1\n5, 6\n6, 7\n", "1\n1\n1\n1\n2\n2\n2\n")
    graphs = read_tu_dataset(tmp_path, min_nodes=2, max_nodes=10)
    assert [(g.number_of_nodes(), g.number_of_edges()) for g in graphs] == [(3, 3), (3, 2)]
    assert len(make_graphs("enzymes", path=str(tmp_path))) == 0  # GDSS keeps graphs of >= 10 nodes


def test_bad_line_is_named(tmp_path: Path) -> None:
    _write(tmp_path, "1, 2\n2; 3\n", "1\n1\n1\n")
    with pytest.raises(DataValidationError, match=r"ENZYMES_A\.txt, line 2"):
        read_tu_dataset(tmp_path)
