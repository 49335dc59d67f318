"""Graph utilities shared by the molecule-domain methods: dense tensors, generators, MMD metrics, files."""

from condiff.molecules.graphs.generators import GRAPH_DATASETS, community_small, ego_small, grid, make_graphs
from condiff.molecules.graphs.mmd import graph_mmds
from condiff.molecules.graphs.tensors import (
    degree_features,
    graphs_to_adjacency,
    mask_adjacency,
    mask_nodes,
    node_flags,
    quantize_adjacency,
    symmetric_noise,
    tensors_to_graphs,
)

__all__ = [
    "GRAPH_DATASETS",
    "community_small",
    "degree_features",
    "ego_small",
    "graph_mmds",
    "graphs_to_adjacency",
    "grid",
    "make_graphs",
    "mask_adjacency",
    "mask_nodes",
    "node_flags",
    "quantize_adjacency",
    "symmetric_noise",
    "tensors_to_graphs",
]
