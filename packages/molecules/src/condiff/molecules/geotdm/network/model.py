"""GeoTDM's equivariant temporal network (EGTN): spatial EGCL layers interleaved with temporal attention."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from condiff.core.networks.embeddings import sinusoidal_embedding
from condiff.molecules.geotdm.network.graph import fully_connected_edges
from condiff.molecules.geotdm.network.spatial import EquivariantSpatialLayer
from condiff.molecules.geotdm.network.temporal import EquivariantTemporalAttention


def _spatial_layer(kind: str, hidden: int, edge_dim: int, lmax: int) -> nn.Module:
    if kind == "egnn":
        return EquivariantSpatialLayer(hidden, edge_dim)
    if kind == "e3nn":
        from condiff.molecules.geotdm.network.e3nn_spatial import TensorProductSpatialLayer

        return TensorProductSpatialLayer(hidden, edge_dim, lmax)
    raise ValueError(f"GeoTDMNetwork: spatial must be 'egnn' or 'e3nn', got {kind!r}")


class GeoTDMNetwork(nn.Module):
    """Equivariant temporal network over trajectories of particle systems (Han et al., GeoTDM, NeurIPS 2024, sec. 4.1).

    Invariant input features per node and frame: the node attributes (e.g. charges), a sinusoidal embedding of
    the frame index, an embedding of the diffusion time and the conditioning flag of the frame (1 = given). Each
    of ``num_layers`` blocks is one :class:`EquivariantSpatialLayer` (all frames at once) followed by one
    :class:`EquivariantTemporalAttention` (all particles at once).

    Returns ``(x_L - x, h_L)``: the coordinate output is E(3)-equivariant and translation invariant (an
    ``eps``/displacement-like prediction), the features are invariant; both are permutation equivariant.

    Example:
        >>> net = GeoTDMNetwork(node_dim=1, hidden=8, num_layers=1)
        >>> x = torch.randn(10, 6, 3); batch = torch.arange(2).repeat_interleave(5)
        >>> dx, h = net(x, torch.rand(2), batch, node_attr=torch.ones(10, 1))
        >>> dx.shape, h.shape
        (torch.Size([10, 6, 3]), torch.Size([10, 6, 8]))
    """

    def __init__(
        self,
        node_dim: int = 0,  # invariant node attributes, e.g. 1 for the charge
        edge_dim: int = 0,  # invariant edge attributes, e.g. 1 for q_i q_j
        hidden: int = 16,  # feature width of every layer
        num_layers: int = 2,  # spatial + temporal blocks
        heads: int = 2,  # temporal attention heads
        time_dim: int = 16,  # width of the diffusion-time and frame-index embeddings (even)
        time_scale: float = 1000.0,  # diffusion time t in [0, 1] is embedded as time_scale * t
        spatial: str = "egnn",  # "egnn" (EGCL) or "e3nn" (tensor products up to degree lmax; optional extra)
        lmax: int = 2,  # e3nn: highest degree of the message irreps
    ) -> None:
        super().__init__()
        if time_dim % 2:
            raise ValueError(f"GeoTDMNetwork: time_dim must be even, got {time_dim}")
        self.node_dim, self.edge_dim, self.time_dim, self.time_scale = node_dim, edge_dim, time_dim, time_scale
        self.time_mlp = nn.Sequential(nn.Linear(time_dim, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        self.embed = nn.Linear(node_dim + 2 * time_dim + 1, hidden)
        self.spatial = nn.ModuleList(_spatial_layer(spatial, hidden, edge_dim, lmax) for _ in range(num_layers))
        self.temporal = nn.ModuleList(EquivariantTemporalAttention(hidden, heads) for _ in range(num_layers))

    def forward(
        self,
        x: Tensor,
        t: Tensor,
        batch: Tensor,
        *,
        node_attr: Tensor | None = None,
        cond_mask: Tensor | None = None,
        edge_index: Tensor | None = None,
        edge_attr: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Args:
            x: (M, T, 3) coordinates of all nodes of the batch (given frames hold their known values).
            t: (B,) diffusion time per system.
            batch: (M,) system index of every node, sorted.
            node_attr: (M, node_dim) invariant node attributes.
            cond_mask: (T,) or (B, T) bool, True where a frame is given (conditioning); None = none given.
            edge_index: (2, E) edges ``source -> target``; None = fully connected inside each system.
            edge_attr: (E, edge_dim) invariant edge attributes.

        Returns:
            ``dx: (M, T, 3)`` equivariant, ``h: (M, T, hidden)`` invariant.
        """
        self._check(x, t, batch, node_attr, cond_mask, edge_index, edge_attr)
        m, frames, _ = x.shape
        dtype = x.dtype
        if edge_index is None:
            edge_index = fully_connected_edges(batch)
        temb = self.time_mlp(sinusoidal_embedding(t.reshape(-1), self.time_dim, self.time_scale).to(dtype))
        frame_index = torch.arange(frames, device=x.device)
        femb = sinusoidal_embedding(frame_index, self.time_dim, scale=1.0).to(dtype)
        if cond_mask is None:
            flag = x.new_zeros(m, frames)
        else:
            flag = (cond_mask[None].expand(m, -1) if cond_mask.ndim == 1 else cond_mask[batch]).to(dtype)
        parts = [temb[batch][:, None].expand(-1, frames, -1), femb[None].expand(m, -1, -1), flag[..., None]]
        if node_attr is not None:
            parts.append(node_attr.to(dtype)[:, None].expand(-1, frames, -1))
        h = self.embed(torch.cat(parts, dim=-1))
        ea = edge_attr.to(dtype) if edge_attr is not None else None
        y = x
        for spatial, temporal in zip(self.spatial, self.temporal, strict=True):
            h, y = spatial(h, y, edge_index, ea)
            h, y = temporal(h, y)
        return y - x, h

    def _check(
        self,
        x: Tensor,
        t: Tensor,
        batch: Tensor,
        node_attr: Tensor | None,
        cond_mask: Tensor | None,
        edge_index: Tensor | None,
        edge_attr: Tensor | None,
    ) -> None:
        if x.ndim != 3 or x.shape[-1] != 3:
            raise ValueError(f"GeoTDMNetwork: x must be (M, T, 3), got {tuple(x.shape)}")
        m, frames = x.shape[:2]
        if batch.shape != (m,):
            raise ValueError(f"GeoTDMNetwork: batch must be ({m},), got {tuple(batch.shape)}")
        num_systems = int(batch.max()) + 1 if m else 0
        if t.reshape(-1).shape != (num_systems,):
            raise ValueError(f"GeoTDMNetwork: t must hold one time per system ({num_systems}), got {tuple(t.shape)}")
        if (node_attr is None) != (self.node_dim == 0) or (
            node_attr is not None and node_attr.shape != (m, self.node_dim)
        ):
            got = None if node_attr is None else tuple(node_attr.shape)
            raise ValueError(f"GeoTDMNetwork: node_attr must be ({m}, {self.node_dim}) (None if 0), got {got}")
        if cond_mask is not None and cond_mask.shape not in ((frames,), (num_systems, frames)):
            raise ValueError(
                f"GeoTDMNetwork: cond_mask must be ({frames},) or ({num_systems}, {frames}), "
                f"got {tuple(cond_mask.shape)}"
            )
        if edge_attr is not None or self.edge_dim:
            num_edges = edge_index.shape[1] if edge_index is not None else None
            if edge_attr is None or edge_index is None or edge_attr.shape != (num_edges, self.edge_dim):
                got = None if edge_attr is None else tuple(edge_attr.shape)
                raise ValueError(
                    f"GeoTDMNetwork: edge_dim={self.edge_dim} needs edge_index and edge_attr "
                    f"(E, {self.edge_dim}), got {got}"
                )
