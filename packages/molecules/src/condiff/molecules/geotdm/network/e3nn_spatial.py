"""Per-frame E(3)-equivariant spatial layer with higher-order irreps (e3nn tensor products; optional extra).

Messages carry spherical-tensor features up to degree ``lmax`` (NequIP/TFN style, Thomas et al. 2018; Batzner
et al. 2022): for the edge ``j -> i`` at every frame,

    m_ij = TP_w(ij)(h_j, Y(x_i - x_j)),   w(ij) = MLP(h_i, h_j, |x_i - x_j|^2, a_ij)

with ``Y`` the spherical harmonics ``0e + 1o + ... + lmax`` of the relative position and ``h_j`` the node's
invariant features (``hidden x 0e``), so ``m_ij`` holds ``hidden x 0e + vectors x (1o + 2e + ...)``. The mean
of the messages over the neighbours, ``M_i``, is coupled with itself by a second tensor product to the outputs
``hidden x 0e + 1x1o``: the scalars update ``h`` (residual, as EGCL's ``phi_h``) and the vector moves ``x``
(scaled by a learned gain that starts at 1e-3, as EGNN starts near the identity). Relative positions make the
update translation invariant; the tensor products make it rotation and reflection equivariant.

Same interface as :class:`~condiff.molecules.geotdm.network.spatial.EquivariantSpatialLayer`; needs ``e3nn``
(``pip install condiff-molecules[geotdm-e3nn]``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

try:
    from e3nn import o3
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the e3nn spatial layer needs e3nn: pip install 'condiff-molecules[geotdm-e3nn]' (e3nn==0.6.0)"
    ) from e


class TensorProductSpatialLayer(nn.Module):
    """Tensor-product message passing on nodes that carry a frame axis: ``h: (M, T, F)``, ``x: (M, T, 3)``.

    Args:
        hidden: width ``F`` of the invariant node features.
        edge_dim: invariant edge attributes.
        lmax: highest degree of the spherical harmonics and of the message irreps (>= 1).
        vectors: multiplicity of every degree ``l >= 1`` in the messages.
    """

    def __init__(self, hidden: int, edge_dim: int = 0, lmax: int = 2, vectors: int = 8) -> None:
        super().__init__()
        if lmax < 1:
            raise ValueError(f"TensorProductSpatialLayer: lmax must be >= 1, got {lmax}")
        self.hidden = hidden
        self.sh_irreps = o3.Irreps.spherical_harmonics(lmax)
        self.msg_irreps = o3.Irreps(f"{hidden}x0e") + o3.Irreps([(vectors, (l, (-1) ** l)) for l in range(1, lmax + 1)])
        self.tp = o3.FullyConnectedTensorProduct(
            o3.Irreps(f"{hidden}x0e"), self.sh_irreps, self.msg_irreps, shared_weights=False
        )
        self.radial = nn.Sequential(
            nn.Linear(2 * hidden + 1 + edge_dim, hidden), nn.SiLU(), nn.Linear(hidden, self.tp.weight_numel)
        )
        self.node_tp = o3.FullyConnectedTensorProduct(
            self.msg_irreps, self.msg_irreps, o3.Irreps(f"{hidden}x0e + 1x1o")
        )
        self.phi_h = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.gain = nn.Parameter(torch.tensor(1e-3))

    def forward(
        self, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """``h: (M, T, F)``, ``x: (M, T, 3)``, ``edge_index: (2, E)`` (``source -> target``) -> ``(h, x)``."""
        src, dst = edge_index
        m, frames, _ = h.shape
        diff = x[dst] - x[src]  # (E, T, 3): x_i - x_j
        dist2 = (diff**2).sum(-1, keepdim=True)
        parts = [h[dst], h[src], dist2]
        if edge_attr is not None:
            parts.append(edge_attr.to(h.dtype)[:, None, :].expand(-1, frames, -1))
        weights = self.radial(torch.cat(parts, dim=-1))
        sh = o3.spherical_harmonics(self.sh_irreps, diff, normalize=True, normalization="component")
        msg = self.tp(h[src], sh, weights)  # (E, T, dim msg_irreps)
        agg = msg.new_zeros(m, frames, msg.shape[-1]).index_add_(0, dst, msg)
        deg = torch.bincount(dst, minlength=m).clamp_min(1).to(h.dtype)
        agg = agg / deg[:, None, None]
        out = self.node_tp(agg, agg)  # (M, T, hidden + 3)
        h = h + self.phi_h(torch.cat([h, out[..., : self.hidden]], dim=-1))
        return h, x + self.gain * out[..., self.hidden :]
