"""The spatial EGCL and the temporal attention are each E(3)-equivariant in x and invariant in h (float64)."""

from __future__ import annotations

import pytest
import torch

from condiff.molecules.geotdm.network import (
    EquivariantSpatialLayer,
    EquivariantTemporalAttention,
    fully_connected_edges,
)

TOL = {"atol": 1e-5, "rtol": 1e-5}


def _inputs(m: int = 7, t: int = 5, f: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(m, t, f, generator=g, dtype=torch.float64), torch.randn(
        m, t, 3, generator=g, dtype=torch.float64
    )


@pytest.mark.parametrize("reflect", [False, True])
def test_spatial_layer_is_e3_equivariant(reflect: bool, orthogonal) -> None:
    torch.manual_seed(0)
    layer = EquivariantSpatialLayer(8, edge_dim=1).double()
    torch.nn.init.normal_(
        layer.phi_x[-1].weight, std=0.5
    )  # a non-trivial coordinate update, not the near-identity init
    h, x = _inputs()
    batch = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    edges = fully_connected_edges(batch)
    edge_attr = torch.randn(edges.shape[1], 1, dtype=torch.float64)
    q, shift = orthogonal(1, reflect), torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    h1, x1 = layer(h, x, edges, edge_attr)
    h2, x2 = layer(h, x @ q.T + shift, edges, edge_attr)
    assert (x1 - x).abs().max() > 1e-2  # the layer does move coordinates
    torch.testing.assert_close(h2, h1, **TOL)
    torch.testing.assert_close(x2, x1 @ q.T + shift, **TOL)


@pytest.mark.parametrize("reflect", [False, True])
def test_temporal_attention_is_e3_equivariant(reflect: bool, orthogonal) -> None:
    torch.manual_seed(0)
    layer = EquivariantTemporalAttention(8, heads=2).double()
    torch.nn.init.normal_(layer.gate.weight, std=0.5)
    h, x = _inputs()
    q, shift = orthogonal(2, reflect), torch.tensor([3.0, 0.0, -1.0], dtype=torch.float64)
    h1, x1 = layer(h, x)
    h2, x2 = layer(h, x @ q.T + shift)
    assert (x1 - x).abs().max() > 1e-2
    torch.testing.assert_close(h2, h1, **TOL)
    torch.testing.assert_close(x2, x1 @ q.T + shift, **TOL)


def test_temporal_attention_matches_the_materialised_pairwise_formula() -> None:
    """The broadcast form equals the pairwise ``x_t + sum_k gamma_k sum_s alpha^k_ts (x_s - x_t)``.

    The reference builds the (M, heads, T, T) weights and (M, T, T, 3) relative coordinates explicitly.
    """
    torch.manual_seed(0)
    layer = EquivariantTemporalAttention(8, heads=2).double()
    torch.nn.init.normal_(layer.gate.weight, std=0.5)
    h, x = _inputs()
    m, t, _ = h.shape
    q, k, v = layer.qkv(layer.norm(h)).reshape(m, t, 3, 2, 4).permute(2, 0, 3, 1, 4)
    alpha = torch.softmax(q @ k.transpose(-1, -2) / 2.0, dim=-1)  # (M, heads, T, T), sqrt(head_dim) = 2
    rel = x[:, None, None, :, :] - x[:, None, :, None, :]  # (M, 1, T, T, 3): x_s - x_t
    x_update = (alpha[..., None] * rel).sum(dim=3)  # (M, heads, T, 3)
    x_ref = x + (layer.gate(h).permute(0, 2, 1)[..., None] * x_update).sum(dim=1)
    h_ref = h + layer.out((alpha @ v).transpose(1, 2).reshape(m, t, -1))
    h_out, x_out = layer(h, x)
    torch.testing.assert_close(x_out, x_ref)
    torch.testing.assert_close(h_out, h_ref)


def test_temporal_attention_stores_no_frame_pair_tensor_for_backward() -> None:
    """Training memory grows like T, not T^2, per particle: no tensor saved for backward has M*heads*T*T entries."""
    torch.manual_seed(0)
    layer = EquivariantTemporalAttention(8, heads=2)
    m, t = 3, 128
    h = torch.randn(m, t, 8, requires_grad=True)
    x = torch.randn(m, t, 3, requires_grad=True)
    saved: list[int] = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved.append(tensor.numel())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        h_out, x_out = layer(h, x)
    assert saved, "nothing was saved for backward"
    assert max(saved) < m * 2 * t * t // 8, f"largest saved tensor {max(saved)} vs M*heads*T^2 = {m * 2 * t * t}"
    (h_out.sum() + x_out.sum()).backward()
