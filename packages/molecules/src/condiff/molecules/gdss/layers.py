"""Building blocks of GDSS's score networks: dense GCN, MLP, graph multi-head attention (Jo et al. 2022, App. C)."""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor, nn

from condiff.molecules.graphs.tensors import mask_adjacency, mask_nodes


def normalized_adjacency(adj: Tensor) -> Tensor:
    """``D^-1/2 (A + I) D^-1/2`` with the diagonal of ``A`` set to 1 and degrees clamped at 1 (PyG ``DenseGCNConv``)."""
    eye = torch.eye(adj.shape[-1], dtype=adj.dtype, device=adj.device)
    a = adj * (1 - eye) + eye
    d = a.sum(-1).clamp(min=1).pow(-0.5)
    return d.unsqueeze(-1) * a * d.unsqueeze(-2)


class DenseGCN(nn.Module):
    """Dense graph convolution ``D^-1/2 (A + I) D^-1/2 X W + b`` (Kipf & Welling 2017; PyG ``DenseGCNConv``).

    ``forward`` takes the raw adjacency; :meth:`propagate` an already normalised one (shared by several GCNs).
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_dim, out_dim))
        self.bias = nn.Parameter(torch.zeros(out_dim))
        nn.init.xavier_uniform_(self.weight)

    def propagate(self, x: Tensor, norm_adj: Tensor) -> Tensor:
        return norm_adj @ (x @ self.weight) + self.bias

    def forward(self, x: Tensor, adj: Tensor) -> Tensor:
        """``x: (B, N, in)``, ``adj: (B, N, N)`` -> ``(B, N, out)``."""
        return self.propagate(x, normalized_adjacency(adj))


class MLP(nn.Module):
    """``num_layers`` linear layers with ELU between them (none after the last)."""

    def __init__(self, num_layers: int, in_dim: int, hidden_dim: int, out_dim: int) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"MLP: num_layers must be >= 1, got {num_layers}")
        dims = [in_dim] + [hidden_dim] * (num_layers - 1) + [out_dim]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(dims))

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.linears[:-1]:
            x = nn.functional.elu(layer(x))
        return self.linears[-1](x)


class GraphAttention(nn.Module):
    """GDSS's graph multi-head attention (GMH, eq. 10): ``A' = mean_heads tanh(Q K^T / sqrt(d_out))``, symmetrised.

    ``Q, K, V`` are dense GCNs of the node features over one adjacency channel; returns ``(V, A')``.
    """

    def __init__(self, in_dim: int, attn_dim: int, out_dim: int, num_heads: int = 4) -> None:
        super().__init__()
        if attn_dim % num_heads:
            raise ValueError(f"GraphAttention: attn_dim={attn_dim} must be a multiple of num_heads={num_heads}")
        self.q = DenseGCN(in_dim, attn_dim)
        self.k = DenseGCN(in_dim, attn_dim)
        self.v = DenseGCN(in_dim, out_dim)
        self.num_heads = num_heads
        self.out_dim = out_dim

    def forward(self, x: Tensor, adj: Tensor) -> tuple[Tensor, Tensor]:
        norm = normalized_adjacency(adj)
        q, k = self.q.propagate(x, norm), self.k.propagate(x, norm)
        b, n, d = q.shape
        h = self.num_heads
        qh = q.view(b, n, h, d // h).transpose(1, 2)
        kh = k.view(b, n, h, d // h).transpose(1, 2)
        a = torch.tanh(qh @ kh.transpose(-1, -2) / math.sqrt(self.out_dim)).mean(1)
        return self.v.propagate(x, norm), 0.5 * (a + a.transpose(-1, -2))


class AttentionLayer(nn.Module):
    """One GDSS adjacency layer: GMH per input channel, node features merged, new adjacency channels by an MLP.

    ``x: (B, N, in_dim)``, ``adj: (B, C_in, N, N)`` -> ``x': (B, N, out_dim)``, ``adj': (B, C_out, N, N)``.
    """

    def __init__(
        self,
        num_linears: int,
        in_dim: int,
        attn_dim: int,
        out_dim: int,
        channels_in: int,
        channels_out: int,
        num_heads: int = 4,
    ) -> None:
        super().__init__()
        self.attn = nn.ModuleList(GraphAttention(in_dim, attn_dim, out_dim, num_heads) for _ in range(channels_in))
        hidden = 2 * max(channels_in, channels_out)
        self.edge_mlp = MLP(num_linears, 2 * channels_in, hidden, channels_out)
        self.node_mlp = MLP(2, channels_in * out_dim, hidden, out_dim)

    def forward(self, x: Tensor, adj: Tensor, flags: Tensor) -> tuple[Tensor, Tensor]:
        outs = [att(x, adj[:, c]) for c, att in enumerate(self.attn)]
        x_out = torch.tanh(mask_nodes(self.node_mlp(torch.cat([o[0] for o in outs], dim=-1)), flags))
        feats = torch.cat([torch.stack([o[1] for o in outs], dim=-1), adj.permute(0, 2, 3, 1)], dim=-1)
        new = self.edge_mlp(feats).permute(0, 3, 1, 2)
        return x_out, mask_adjacency(new + new.transpose(-1, -2), flags)


def adjacency_powers(adj: Tensor, k: int) -> Tensor:
    """``(A, A^2, ..., A^k)`` stacked as channels: ``(B, k, N, N)``."""
    out = [adj]
    for _ in range(k - 1):
        out.append(out[-1] @ adj)
    return torch.stack(out, dim=1)
