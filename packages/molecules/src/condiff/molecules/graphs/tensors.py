"""Dense graph tensors: padded adjacency ``A: (B, N, N)``, node features ``X: (B, N, F)``, node flags ``(B, N)``.

Graphs of different sizes share one padded size ``N``; ``flags[b, i] = 1`` marks a real node. Noise,
states and network outputs are kept zero on padded nodes (GDSS, Jo et al. 2022, Sec. 3.1).
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import torch
from torch import Tensor

from condiff.core.errors import DataValidationError


def node_flags(adj: Tensor, eps: float = 1e-5) -> Tensor:
    """``flags[b, i] = 1`` where node ``i`` has an edge (``sum_j |A_ij| > eps``), as GDSS derives them."""
    return (adj.abs().sum(-1) > eps).to(adj.dtype)


def mask_nodes(x: Tensor, flags: Tensor) -> Tensor:
    """Zero the rows of padded nodes: ``x * flags[..., None]``; ``x: (B, N, F)``, ``flags: (B, N)``."""
    return x * flags.unsqueeze(-1).to(x.dtype)


def mask_adjacency(adj: Tensor, flags: Tensor) -> Tensor:
    """Zero rows and columns of padded nodes; ``adj: (B, N, N)`` or ``(B, C, N, N)``, ``flags: (B, N)``."""
    f = flags.to(adj.dtype)
    if adj.ndim == 4:
        f = f.unsqueeze(1)
    return adj * f.unsqueeze(-1) * f.unsqueeze(-2)


def symmetrize_upper(z: Tensor) -> Tensor:
    """``triu(z, 1) + triu(z, 1)^T``: mirror the strict upper triangle, zero diagonal (GDSS ``gen_noise``).

    A linear idempotent map: off-diagonal entries of a standard normal ``z`` stay unit-variance.
    """
    up = z.triu(1)
    return up + up.transpose(-1, -2)


def symmetric_noise(
    shape: Sequence[int], flags: Tensor, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
) -> Tensor:
    """Standard normal symmetric adjacency noise with zero diagonal, zero on padded nodes; ``shape = (B, N, N)``."""
    z = torch.randn(tuple(shape), generator=generator, dtype=dtype, device=flags.device)
    return mask_adjacency(symmetrize_upper(z), flags)


def quantize_adjacency(adj: Tensor, threshold: float = 0.5) -> Tensor:
    """GDSS ``quantize``: 1 where ``A >= threshold`` else 0 (generic graphs)."""
    return (adj >= threshold).to(adj.dtype)


def graphs_to_adjacency(graphs: Sequence[nx.Graph], max_nodes: int) -> Tensor:
    """Padded adjacency matrices ``(B, max_nodes, max_nodes)`` of networkx graphs (edge weights ignored).

    Raises:
        DataValidationError: a graph has more than ``max_nodes`` nodes (names its index).
    """
    out = torch.zeros(len(graphs), max_nodes, max_nodes)
    for i, g in enumerate(graphs):
        n = g.number_of_nodes()
        if n > max_nodes:
            raise DataValidationError(f"graph {i} has {n} nodes, more than max_nodes={max_nodes}")
        a = nx.to_numpy_array(g, nodelist=list(g.nodes()), weight=None)
        np.fill_diagonal(a, 0.0)
        out[i, :n, :n] = torch.from_numpy(a).float()
    return out


def degree_features(adj: Tensor, num_features: int) -> Tensor:
    """GDSS's ``init='deg'`` node features: one-hot of the node degree, ``(B, N, num_features)``.

    Degrees ``>= num_features`` are clipped to the last class; padded nodes get zero rows.
    """
    deg = adj.sum(-1).round().long().clamp(max=num_features - 1)
    x = torch.nn.functional.one_hot(deg, num_features).to(adj.dtype)
    return mask_nodes(x, node_flags(adj))


def tensors_to_graphs(adj: Tensor, flags: Tensor | None = None) -> list[nx.Graph]:
    """networkx graphs of (quantized) adjacency matrices ``(B, N, N)``, self-loops and isolated nodes removed.

    As GDSS's ``adjs_to_graphs``: an empty result becomes a single-node graph.
    """
    if flags is not None:
        adj = mask_adjacency(adj, flags)
    graphs = []
    for a in adj.detach().cpu().numpy():
        g = nx.from_numpy_array((a > 0).astype(np.int64))
        g.remove_edges_from(nx.selfloop_edges(g))
        g.remove_nodes_from(list(nx.isolates(g)))
        if g.number_of_nodes() < 1:
            g.add_node(0)
        graphs.append(nx.convert_node_labels_to_integers(g))
    return graphs
