"""GDSS's system of SDEs as a core :class:`ProductProcess` over ``(X, A)``, and its masked, symmetric form.

Training and sampling see the graph through the projections below: node noise is zero on padded
nodes, adjacency noise is the mirrored strict upper triangle (unit variance off the diagonal, zero
diagonal) on real nodes only (Jo et al. 2022, Sec. 3.1; GDSS ``gen_noise``). Both projections are
linear and idempotent, so every core solver keeps the state on the graphs with the given node set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from hydra.utils import instantiate
from torch import Tensor

from condiff.core.processes import GaussianProcess, ProductProcess, ProjectedProcess
from condiff.molecules.graphs.tensors import mask_adjacency, mask_nodes, symmetrize_upper


class NodeMask:
    """Projection ``X -> X * flags`` onto node features of real nodes."""

    def __init__(self, flags: Tensor) -> None:
        self.flags = flags

    def __call__(self, x: Tensor) -> Tensor:
        return mask_nodes(x, self.flags)


class SymmetricEdgeMask:
    """Projection ``A -> mask(triu(A, 1) + triu(A, 1)^T)``: symmetric, zero diagonal, real nodes only."""

    def __init__(self, flags: Tensor) -> None:
        self.flags = flags

    def __call__(self, adj: Tensor) -> Tensor:
        return mask_adjacency(symmetrize_upper(adj), self.flags)


class PackedGraphProjection:
    """Both projections on the packed state ``[X | A]: (B, N, F + N)`` (see :func:`pack`)."""

    def __init__(self, flags: Tensor, num_features: int) -> None:
        self.node, self.edge, self.num_features = NodeMask(flags), SymmetricEdgeMask(flags), num_features

    def __call__(self, packed: Tensor) -> Tensor:
        x, adj = unpack(packed, self.num_features)
        return pack(self.node(x), self.edge(adj))


def pack(x: Tensor, adj: Tensor) -> Tensor:
    """``[X | A]``: node features and adjacency rows side by side, ``(B, N, F + N)``."""
    return torch.cat([x, adj], dim=-1)


def unpack(packed: Tensor, num_features: int) -> tuple[Tensor, Tensor]:
    """Inverse of :func:`pack`."""
    return packed[..., :num_features], packed[..., num_features:]


def graph_process(x: GaussianProcess | Mapping[str, Any], adj: GaussianProcess | Mapping[str, Any]) -> ProductProcess:
    """``ProductProcess((process_X, process_A))``; each argument a process or a Hydra node with ``_target_``."""
    px = instantiate(x) if isinstance(x, Mapping) else x
    pa = instantiate(adj) if isinstance(adj, Mapping) else adj
    for name, p in (("x", px), ("adj", pa)):
        if not isinstance(p, GaussianProcess):
            raise ValueError(f"graph_process: {name} must be a GaussianProcess, got {type(p).__name__}")
    return ProductProcess([px, pa])


def masked_process(process: ProductProcess, flags: Tensor) -> ProductProcess:
    """``process`` with the node mask on ``X`` and the symmetric edge mask on ``A`` for the graphs ``flags: (B, N)``."""
    if len(process) != 2:
        raise ValueError(f"masked_process: a GDSS process has 2 components (X, A), got {len(process)}")
    px, pa = process.processes
    return ProductProcess([ProjectedProcess(px, NodeMask(flags)), ProjectedProcess(pa, SymmetricEdgeMask(flags))])


def same_process(p: GaussianProcess, q: GaussianProcess, points: int = 17) -> bool:
    """Whether two processes have the same ``a, b, s`` (checked on a grid of times) and time range."""
    if (p.t_min, p.T) != (q.t_min, q.T):
        return False
    t = torch.linspace(p.t_min, p.T, points, dtype=torch.float64)
    cp, cq = p.coefficients64(t), q.coefficients64(t)
    return all(torch.allclose(getattr(cp, k), getattr(cq, k), rtol=1e-12, atol=0) for k in ("a", "b", "s"))


def packed_process(process: ProductProcess, flags: Tensor, num_features: int) -> ProjectedProcess:
    """One process on the packed state ``[X | A]`` when both components share it (for the fast ODE solvers).

    Raises:
        ValueError: the components' processes differ (an exponential integrator needs one log-SNR).
    """
    px, pa = process.processes
    if not same_process(px, pa):
        raise ValueError(
            "the fast ODE solvers run on one process: X and A use different SDEs here "
            f"({px!r} vs {pa!r}); use method euler-maruyama, pc or s4, or the same SDE for both"
        )
    return ProjectedProcess(px, PackedGraphProjection(flags, num_features))
