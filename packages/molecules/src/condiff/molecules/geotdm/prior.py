"""GeoTDM's generalized learnable geometric prior and the ablation priors (Han et al. 2024, Sec. 4.2).

The prior mean ``mu`` of every generated frame ``s`` is an affine combination of the given frames of the same
node, ``mu_s = sum_c w_sc x_c`` with ``sum_c w_sc = 1``. Weights that sum to one make ``mu`` translation
equivariant; weights computed from invariant features make it rotation/reflection and permutation equivariant.
Affine (not only convex) weights can extrapolate, e.g. constant velocity ``x_c + k (x_c - x_{c-1})``.

Kinds:
    ``learned``: ``w_sc = e_sc + d_s (u_sc - mean_c u_sc)`` with ``e`` the nearest-given-frame one-hot,
        ``d_s`` the number of frames from ``s`` to that frame, and ``u_sc = W_s h_c + b_s`` from the invariant
        features ``h_c`` of a small equivariant temporal network run on the given frames (the reference's
        ``n_layers_ref`` network). ``W, b`` start at zero, so training starts from the ``last`` prior; the
        factor ``d_s`` lets corrections grow with the time gap as a velocity term does (constant velocity is
        ``u = +-1`` on the last two frames for every ``s``), so that O(1) parameters express O(T) weights.
    ``last``: ``w = e``: every generated frame starts from the nearest given frame ("fixed" prior ablation).
    ``com``: every generated frame starts from the system's centre of mass over its nodes and given frames
        (the reference's prior without learning; the zero-mean prior in centred coordinates).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from condiff.core.errors import ConfigError
from condiff.molecules.geotdm.masks import frame_gaps, nearest_given
from condiff.molecules.geotdm.network import GeoTDMNetwork

PriorKind = Literal["learned", "last", "com"]
PRIORS = ("learned", "last", "com")


class GeometricPrior(nn.Module):
    """Prior mean ``mu: (M, T, 3)``: the given frames where ``mask`` is True, the combination above elsewhere.

    Args:
        kind: ``learned``, ``last`` or ``com``.
        mask: ``(T,)`` bool, True on given frames (at least one given and one generated).
        node_dim, edge_dim, hidden, layers, heads, time_dim: sizes of the ``learned`` prior's network.
    """

    mask: Tensor
    base: Tensor
    gap: Tensor

    def __init__(
        self,
        kind: str,
        mask: Tensor,
        node_dim: int = 0,
        edge_dim: int = 0,
        hidden: int = 32,
        layers: int = 2,
        heads: int = 2,
        time_dim: int = 16,
    ) -> None:
        super().__init__()
        if kind not in PRIORS:
            raise ConfigError(f"GeometricPrior: kind must be one of {PRIORS}, got {kind!r}")
        if not bool(mask.any()) or bool(mask.all()):
            raise ConfigError("GeometricPrior: the mask must give at least one frame and leave one to generate")
        self.kind = kind
        self.register_buffer("mask", mask.clone(), persistent=False)
        base = nearest_given(mask)  # (T_f, T_c)
        self.register_buffer("base", base, persistent=False)
        self.register_buffer("gap", frame_gaps(mask)[~mask][:, None], persistent=False)  # (T_f, 1): d_s
        self.encoder: GeoTDMNetwork | None = None
        self.logits: nn.Linear | None = None
        if kind == "learned":
            self.encoder = GeoTDMNetwork(node_dim, edge_dim, hidden, layers, heads, time_dim)
            self.logits = nn.Linear(hidden, int((~mask).sum()))
            nn.init.zeros_(self.logits.weight)
            nn.init.zeros_(self.logits.bias)

    def weights(
        self,
        x: Tensor,
        batch: Tensor,
        *,
        node_attr: Tensor | None = None,
        edge_index: Tensor | None = None,
        edge_attr: Tensor | None = None,
    ) -> Tensor:
        """``w: (M, T_f, T_c)``, rows summing to one (``learned`` and ``last``; ``com`` has no per-node weights)."""
        base = self.base.to(x.dtype)
        if self.encoder is None or self.logits is None:
            return base.expand(x.shape[0], -1, -1)
        given = x[:, self.mask]
        t = x.new_zeros(int(batch.max()) + 1 if batch.numel() else 0)
        full = torch.ones(given.shape[1], dtype=torch.bool, device=x.device)
        _, h = self.encoder(
            given, t, batch, node_attr=node_attr, cond_mask=full, edge_index=edge_index, edge_attr=edge_attr
        )
        u = self.logits(h).transpose(1, 2)  # (M, T_f, T_c)
        return base + self.gap.to(x.dtype) * (u - u.mean(dim=-1, keepdim=True))

    def forward(
        self,
        x: Tensor,
        batch: Tensor,
        *,
        node_attr: Tensor | None = None,
        edge_index: Tensor | None = None,
        edge_attr: Tensor | None = None,
    ) -> Tensor:
        """``x: (M, T, 3)`` (only the given frames are read), ``batch: (M,)`` -> ``mu: (M, T, 3)``."""
        if x.ndim != 3 or x.shape[1:] != (self.mask.numel(), 3):
            raise ValueError(f"GeometricPrior: x must be (M, {self.mask.numel()}, 3), got {tuple(x.shape)}")
        given = x[:, self.mask]
        if self.kind == "com":
            b = int(batch.max()) + 1 if batch.numel() else 0
            sums = x.new_zeros(b, 3).index_add_(0, batch, given.sum(dim=1))
            counts = torch.bincount(batch, minlength=b).to(x.dtype) * given.shape[1]
            mean = (sums / counts[:, None])[batch]  # (M, 3)
            generated = mean[:, None, :].expand(-1, int((~self.mask).sum()), -1)
        else:
            w = self.weights(x, batch, node_attr=node_attr, edge_index=edge_index, edge_attr=edge_attr)
            generated = torch.einsum("msc,mcd->msd", w, given)
        mu = x.new_zeros(x.shape)
        mu[:, self.mask] = given
        mu[:, ~self.mask] = generated
        return mu
