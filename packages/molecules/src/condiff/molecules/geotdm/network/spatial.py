"""Per-frame E(n)-equivariant graph convolution (EGCL, Satorras, Hoogeboom & Welling 2021, eqs. 3-6)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from condiff.molecules.geotdm.network._pyg import MessagePassing, degree


class EquivariantSpatialLayer(MessagePassing):
    """EGCL applied to every frame at once: node tensors carry a frame axis, ``h: (M, T, F)``, ``x: (M, T, 3)``.

    ``m_ij = phi_e(h_i, h_j, |x_i - x_j|^2, a_ij)`` (eq. 3);
    ``x_i <- x_i + 1/(M_i) sum_j (x_i - x_j) / (|x_i - x_j| + 1) * phi_x(m_ij)`` (eq. 4, EGNN's normalised
    differences and mean over the ``M_i`` neighbours);
    ``h_i <- h_i + phi_h(h_i, sum_j m_ij)`` (eqs. 5-6, residual).
    Distances are invariant and differences equivariant, so ``x`` is E(3)-equivariant and ``h`` invariant.
    """

    def __init__(self, hidden: int, edge_dim: int = 0) -> None:
        super().__init__(aggr="sum", node_dim=0)
        self.hidden = hidden
        self.phi_e = nn.Sequential(
            nn.Linear(2 * hidden + 1 + edge_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU()
        )
        last = nn.Linear(hidden, 1, bias=False)
        nn.init.xavier_uniform_(last.weight, gain=0.001)  # EGNN: start near the identity map on coordinates
        self.phi_x = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), last)
        self.phi_h = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(
        self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """``h: (M, T, F)``, ``x: (M, T, 3)``, ``edge_index: (2, E)``, ``edge_attr: (E, edge_dim)`` -> ``(h, x)``."""
        out = self.propagate(edge_index, h=h, x=x, edge_attr=edge_attr)  # (M, T, hidden + 3)
        m, dx = out[..., : self.hidden], out[..., self.hidden :]
        deg = degree(edge_index[1], num_nodes=h.shape[0], dtype=x.dtype).clamp_min(1.0)
        x = x + dx / deg[:, None, None]
        h = h + self.phi_h(torch.cat([h, m], dim=-1))
        return h, x

    def message(self, h_i: Tensor, h_j: Tensor, x_i: Tensor, x_j: Tensor, edge_attr: Tensor | None) -> Tensor:
        diff = x_i - x_j  # (E, T, 3)
        dist2 = (diff**2).sum(-1, keepdim=True)
        parts = [h_i, h_j, dist2]
        if edge_attr is not None:
            parts.append(edge_attr[:, None, :].expand(-1, h_i.shape[1], -1))
        m = self.phi_e(torch.cat(parts, dim=-1))
        dx = diff / (dist2.sqrt() + 1.0) * self.phi_x(m)
        return torch.cat([m, dx], dim=-1)
