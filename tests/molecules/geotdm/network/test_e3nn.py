"""The e3nn tensor-product spatial layer: E(3) and permutation equivariance of the whole network, l = 2 at work."""

from __future__ import annotations

import pytest
import torch

from condiff.molecules.geotdm.network import GeoTDMNetwork, fully_connected_edges
from condiff.molecules.geotdm.network.e3nn_spatial import TensorProductSpatialLayer

TOL = {"atol": 1e-6, "rtol": 1e-6}


def _net(lmax: int = 2) -> GeoTDMNetwork:
    torch.manual_seed(0)
    net = GeoTDMNetwork(node_dim=1, edge_dim=1, hidden=8, num_layers=2, heads=2, time_dim=8, spatial="e3nn", lmax=lmax)
    net = net.double()
    for layer in net.spatial:
        layer.gain.data.fill_(0.5)
    for layer in net.temporal:
        torch.nn.init.normal_(layer.gate.weight, std=0.3)
    return net


def _inputs() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    q = torch.where(torch.rand(7, generator=g) < 0.5, 1.0, -1.0).double()
    edges = fully_connected_edges(batch)
    return {
        "x": torch.randn(7, 5, 3, generator=g, dtype=torch.float64),
        "t": torch.rand(2, generator=g, dtype=torch.float64),
        "batch": batch,
        "node_attr": q[:, None],
        "edge_index": edges,
        "edge_attr": (q[edges[0]] * q[edges[1]])[:, None],
        "cond_mask": torch.arange(5) < 2,
    }


@pytest.mark.parametrize("reflect", [False, True])
def test_e3nn_network_is_e3_and_permutation_equivariant(reflect: bool, orthogonal) -> None:
    net, inp = _net(), _inputs()
    assert isinstance(net.spatial[0], TensorProductSpatialLayer)
    q, shift = orthogonal(4, reflect), torch.tensor([2.0, -1.0, 3.0], dtype=torch.float64)
    dx, h = net(**inp)
    moved, h_moved = net(**{**inp, "x": inp["x"] @ q.T + shift})
    assert dx.abs().max() > 1e-2
    torch.testing.assert_close(moved, dx @ q.T, **TOL)
    torch.testing.assert_close(h_moved, h, **TOL)
    perm = torch.tensor([2, 0, 3, 1, 6, 4, 5])
    edges_p = torch.argsort(perm)[inp["edge_index"]]
    dx_p, _ = net(**{**inp, "x": inp["x"][perm], "node_attr": inp["node_attr"][perm], "edge_index": edges_p})
    torch.testing.assert_close(dx_p, dx[perm], **TOL)


def test_degree_two_features_change_the_output() -> None:
    inp, net2 = _inputs(), _net(lmax=2)
    dx2, _ = net2(**inp)
    dx1, _ = _net(lmax=1)(**inp)
    assert "2e" in str(net2.spatial[0].msg_irreps)
    assert (dx2 - dx1).abs().max() > 1e-4
    with pytest.raises(ValueError, match="spatial must be"):
        GeoTDMNetwork(spatial="painn")
