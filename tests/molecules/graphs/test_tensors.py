"""Dense graph tensors: masks, symmetric noise, degree features, conversion to and from networkx."""

from __future__ import annotations

import networkx as nx
import pytest
import torch

from condiff.core.errors import DataValidationError
from condiff.molecules.graphs.tensors import (
    degree_features,
    graphs_to_adjacency,
    mask_adjacency,
    node_flags,
    symmetric_noise,
    symmetrize_upper,
    tensors_to_graphs,
)


def test_symmetric_noise_is_symmetric_zero_diagonal_masked_and_unit_variance() -> None:
    flags = torch.tensor([[1.0] * 6 + [0.0] * 2] * 400)
    z = symmetric_noise((400, 8, 8), flags, torch.Generator().manual_seed(0))
    assert torch.equal(z, z.transpose(-1, -2))
    assert torch.all(z.diagonal(dim1=-2, dim2=-1) == 0)
    assert torch.all(z[:, 6:, :] == 0)
    assert torch.all(z[:, :, 6:] == 0)
    off = z[:, :6, :6][:, ~torch.eye(6, dtype=torch.bool)]
    assert abs(float(off.var()) - 1.0) < 0.05


def test_symmetrize_upper_is_idempotent() -> None:
    a = torch.randn(3, 5, 5)
    s = symmetrize_upper(a)
    assert torch.equal(symmetrize_upper(s), s)


def test_graphs_round_trip_through_padded_adjacency() -> None:
    graphs = [nx.path_graph(4), nx.cycle_graph(5), nx.complete_graph(3)]
    adj = graphs_to_adjacency(graphs, 6)
    assert adj.shape == (3, 6, 6)
    assert node_flags(adj).sum(1).tolist() == [4.0, 5.0, 3.0]
    back = tensors_to_graphs(adj)
    assert all(nx.is_isomorphic(a, b) for a, b in zip(graphs, back, strict=True))


def test_graph_larger_than_max_nodes_is_named() -> None:
    with pytest.raises(DataValidationError, match="graph 1 has 7 nodes"):
        graphs_to_adjacency([nx.path_graph(3), nx.path_graph(7)], 6)


def test_degree_features_are_one_hot_degrees_and_zero_on_padding() -> None:
    adj = graphs_to_adjacency([nx.star_graph(3)], 6)  # centre degree 3, leaves 1
    x = degree_features(adj, 3)  # degree 3 is clipped to the last class
    assert x[0, :4].argmax(-1).tolist() == [2, 1, 1, 1]
    assert torch.all(x[0, 4:] == 0)


def test_mask_adjacency_handles_channels() -> None:
    flags = torch.tensor([[1.0, 1.0, 0.0]])
    a = torch.ones(1, 2, 3, 3)
    m = mask_adjacency(a, flags)
    assert m[0, :, 2].abs().sum() == 0
    assert m[0, :, :, 2].abs().sum() == 0
    assert m[0, :, :2, :2].sum() == 8
