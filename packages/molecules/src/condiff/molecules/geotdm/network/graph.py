"""Batches of particle systems as one disjoint graph (PyG convention: ``batch`` vector, ``edge_index[0]`` = source)."""

from __future__ import annotations

import torch
from torch import Tensor


def fully_connected_edges(batch: Tensor) -> Tensor:
    """All directed pairs ``j -> i``, ``i != j``, inside each system; ``batch: (M,)`` sorted -> ``(2, E)``.

    Example:
        >>> fully_connected_edges(torch.tensor([0, 0, 1, 1])).tolist()
        [[1, 0, 3, 2], [0, 1, 2, 3]]
    """
    if batch.ndim != 1:
        raise ValueError(f"fully_connected_edges: batch must be (M,), got {tuple(batch.shape)}")
    if batch.numel() and bool((batch[1:] < batch[:-1]).any()):
        raise ValueError("fully_connected_edges: batch must be sorted (nodes of one system contiguous)")
    counts = torch.bincount(batch) if batch.numel() else batch.new_zeros(0)
    ptr = torch.cumsum(counts, 0) - counts
    squares = counts**2
    graph = torch.repeat_interleave(torch.arange(counts.numel(), device=batch.device), squares)
    k = torch.arange(int(squares.sum()), device=batch.device) - torch.repeat_interleave(
        torch.cumsum(squares, 0) - squares, squares
    )
    n = counts[graph]
    target, source = k // n, k % n
    keep = target != source
    return torch.stack([ptr[graph] + source, ptr[graph] + target])[:, keep]


def dense_to_graph(positions: Tensor) -> tuple[Tensor, Tensor]:
    """Flatten equal-size systems ``positions: (B, N, T, 3)`` to nodes ``(B*N, T, 3)`` and ``batch: (B*N,)``."""
    if positions.ndim != 4 or positions.shape[-1] != 3:
        raise ValueError(f"dense_to_graph: positions must be (B, N, T, 3), got {tuple(positions.shape)}")
    b, n = positions.shape[:2]
    batch = torch.arange(b, device=positions.device).repeat_interleave(n)
    return positions.reshape(b * n, *positions.shape[2:]), batch
