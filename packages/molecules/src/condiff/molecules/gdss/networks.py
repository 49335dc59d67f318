"""GDSS's two score networks and the pair that the diffusion module trains (Jo et al. 2022, Sec. 3.2, App. C).

``ScoreNetworkX`` (GCN layers, concatenated features, MLP) estimates the node-feature noise,
``ScoreNetworkA`` (graph multi-head attention over the powers ``A, A^2, ..., A^c_init``) the
adjacency noise. As in the paper neither network is told the time; both are permutation equivariant.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from condiff.molecules.gdss.layers import MLP, AttentionLayer, DenseGCN, adjacency_powers
from condiff.molecules.graphs.tensors import mask_adjacency, mask_nodes


def _check(x: Tensor, adj: Tensor, flags: Tensor) -> None:
    if x.ndim != 3 or adj.ndim != 3 or adj.shape[-1] != adj.shape[-2] or x.shape[:2] != adj.shape[:2]:
        raise ValueError(
            f"GDSS networks: need x (B, N, F) and adj (B, N, N), got {tuple(x.shape)} and {tuple(adj.shape)}"
        )
    if flags.shape != adj.shape[:2]:
        raise ValueError(f"GDSS networks: flags must be (B, N) = {tuple(adj.shape[:2])}, got {tuple(flags.shape)}")


class ScoreNetworkX(nn.Module):
    """Node network: ``depth`` GCN layers (tanh), all layer outputs concatenated, a 3-layer MLP back to ``F``.

    Args:
        num_features: node-feature width ``F`` (GDSS ``max_feat_num``).
        depth: GCN layers.
        hidden: GCN width (``nhid``).
    """

    def __init__(self, num_features: int, depth: int = 3, hidden: int = 32) -> None:
        super().__init__()
        self.convs = nn.ModuleList(DenseGCN(num_features if i == 0 else hidden, hidden) for i in range(depth))
        fdim = num_features + depth * hidden
        self.final = MLP(3, fdim, 2 * fdim, num_features)

    def forward(self, x: Tensor, adj: Tensor, flags: Tensor) -> Tensor:
        """``x: (B, N, F)``, ``adj: (B, N, N)``, ``flags: (B, N)`` -> ``(B, N, F)``."""
        _check(x, adj, flags)
        feats = [x]
        for conv in self.convs:
            feats.append(torch.tanh(conv(feats[-1], adj)))
        return mask_nodes(self.final(torch.cat(feats, dim=-1)), flags)


class ScoreNetworkA(nn.Module):
    """Adjacency network: ``num_layers`` attention layers over ``c_init`` powers of ``A``, an MLP per edge.

    Args:
        num_features: node-feature width ``F``.
        hidden: GCN value width (``nhid``).
        attn_dim: attention width (``adim``).
        num_layers: attention layers.
        num_linears: linear layers of each layer's edge MLP.
        c_init: powers of ``A`` fed in; c_hid, c_final: adjacency channels of the hidden and last layers.
        num_heads: attention heads.
    """

    def __init__(
        self,
        num_features: int,
        hidden: int = 32,
        attn_dim: int = 32,
        num_layers: int = 5,
        num_linears: int = 2,
        c_init: int = 2,
        c_hid: int = 8,
        c_final: int = 4,
        num_heads: int = 4,
    ) -> None:
        super().__init__()
        if num_layers < 2:
            raise ValueError(f"ScoreNetworkA: num_layers must be >= 2, got {num_layers}")
        self.c_init = c_init
        layers = [AttentionLayer(num_linears, num_features, hidden, hidden, c_init, c_hid, num_heads)]
        layers += [
            AttentionLayer(num_linears, hidden, attn_dim, hidden, c_hid, c_hid, num_heads)
            for _ in range(num_layers - 2)
        ]
        layers.append(AttentionLayer(num_linears, hidden, attn_dim, hidden, c_hid, c_final, num_heads))
        self.layers = nn.ModuleList(layers)
        fdim = c_init + c_hid * (num_layers - 1) + c_final
        self.final = MLP(3, fdim, 2 * fdim, 1)

    def forward(self, x: Tensor, adj: Tensor, flags: Tensor) -> Tensor:
        """``x: (B, N, F)``, ``adj: (B, N, N)``, ``flags: (B, N)`` -> symmetric ``(B, N, N)``, zero diagonal."""
        _check(x, adj, flags)
        a = adjacency_powers(adj, self.c_init)
        channels = [a]
        for layer in self.layers:
            x, a = layer(x, a, flags)
            channels.append(a)
        out = self.final(torch.cat(channels, dim=1).permute(0, 2, 3, 1)).squeeze(-1)
        eye = torch.eye(out.shape[-1], dtype=out.dtype, device=out.device)
        return mask_adjacency(out * (1 - eye), flags)


class GDSSNetwork(nn.Module):
    """The pair ``(ScoreNetworkX, ScoreNetworkA)`` on the tuple state ``(X, A)``; outputs ``(out_X, out_A)``.

    ``forward((x, adj), t, flags=...)`` ignores ``t`` (GDSS's networks are not time conditioned). The
    outputs are read through the module's parameterization (``eps``: GDSS's ``-score * std``).
    """

    def __init__(self, x_net: ScoreNetworkX, adj_net: ScoreNetworkA) -> None:
        super().__init__()
        self.x_net = x_net
        self.adj_net = adj_net

    def forward(self, state: tuple[Tensor, Tensor], t: Tensor, flags: Tensor, **_: Any) -> tuple[Tensor, Tensor]:
        x, adj = state
        x, adj = mask_nodes(x, flags), mask_adjacency(adj, flags)
        return self.x_net(x, adj, flags), self.adj_net(x, adj, flags)


def gdss_network(num_features: int, x: dict[str, Any], adj: dict[str, Any]) -> GDSSNetwork:
    """:class:`GDSSNetwork` from two keyword dicts (the Hydra config's ``x`` and ``adj`` nodes)."""
    return GDSSNetwork(ScoreNetworkX(num_features, **dict(x)), ScoreNetworkA(num_features, **dict(adj)))
