"""Fully connected edges of a batch of systems and the dense-to-graph flattening."""

from __future__ import annotations

import pytest
import torch

from condiff.molecules.geotdm.network import dense_to_graph, fully_connected_edges


def test_fully_connected_edges_cover_every_ordered_pair_within_systems() -> None:
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    edges = fully_connected_edges(batch)
    assert edges.shape == (2, 3 * 2 + 2 * 1 + 4 * 3)
    pairs = {tuple(e) for e in edges.T.tolist()}
    expected = {(j, i) for i in range(9) for j in range(9) if i != j and batch[i] == batch[j]}
    assert pairs == expected


def test_unsorted_batch_is_rejected() -> None:
    with pytest.raises(ValueError, match="sorted"):
        fully_connected_edges(torch.tensor([0, 1, 0]))


def test_dense_to_graph_flattens_systems_in_order() -> None:
    positions = torch.randn(2, 3, 4, 3)
    x, batch = dense_to_graph(positions)
    assert x.shape == (6, 4, 3)
    assert batch.tolist() == [0, 0, 0, 1, 1, 1]
    torch.testing.assert_close(x[4], positions[1, 1])
    with pytest.raises(ValueError, match=r"\(B, N, T, 3\)"):
        dense_to_graph(torch.randn(2, 3, 4))
