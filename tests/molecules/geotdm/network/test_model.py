"""GeoTDMNetwork: E(3) and permutation equivariance to 1e-5 in float64, shapes, conditioning and input checks."""

from __future__ import annotations

import pytest
import torch

from condiff.molecules.geotdm.network import GeoTDMNetwork, dense_to_graph, fully_connected_edges

TOL = {"atol": 1e-5, "rtol": 1e-5}


def _net(edge_dim: int = 1) -> GeoTDMNetwork:
    torch.manual_seed(0)
    net = GeoTDMNetwork(node_dim=1, edge_dim=edge_dim, hidden=16, num_layers=2, heads=2, time_dim=8).double()
    for layer in net.spatial:  # non-trivial coordinate updates instead of EGNN's near-identity initialisation
        torch.nn.init.normal_(layer.phi_x[-1].weight, std=0.3)
    for layer in net.temporal:
        torch.nn.init.normal_(layer.gate.weight, std=0.3)
    return net


def _systems(sizes: tuple[int, ...] = (5, 3), frames: int = 6) -> dict[str, torch.Tensor]:
    """Systems of different sizes, charges as node attributes and q_i q_j as edge attributes."""
    g = torch.Generator().manual_seed(0)
    batch = torch.arange(len(sizes)).repeat_interleave(torch.tensor(sizes))
    m = int(batch.numel())
    charges = torch.where(torch.rand(m, generator=g) < 0.5, 1.0, -1.0).double()
    edges = fully_connected_edges(batch)
    return {
        "x": torch.randn(m, frames, 3, generator=g, dtype=torch.float64),
        "t": torch.rand(len(sizes), generator=g, dtype=torch.float64),
        "batch": batch,
        "node_attr": charges[:, None],
        "edge_index": edges,
        "edge_attr": (charges[edges[0]] * charges[edges[1]])[:, None],
        "cond_mask": torch.arange(frames) < 2,
    }


@pytest.mark.parametrize("reflect", [False, True])
def test_network_is_e3_equivariant(reflect: bool, orthogonal) -> None:
    net, inp = _net(), _systems()
    q, shift = orthogonal(3, reflect), torch.tensor([5.0, -3.0, 1.0], dtype=torch.float64)
    dx, h = net(**inp)
    dx_moved, h_moved = net(**{**inp, "x": inp["x"] @ q.T + shift})
    assert dx.abs().max() > 1e-2
    torch.testing.assert_close(dx_moved, dx @ q.T, **TOL)  # translation invariant, rotation/reflection equivariant
    torch.testing.assert_close(h_moved, h, **TOL)


def test_network_is_permutation_equivariant() -> None:
    net, inp = _net(edge_dim=0), _systems()
    del inp["edge_index"], inp["edge_attr"]
    perm = torch.cat([torch.tensor([3, 0, 4, 1, 2]), 5 + torch.tensor([2, 0, 1])])  # within each system
    dx, h = net(**inp)
    dx_p, h_p = net(**{**inp, "x": inp["x"][perm], "node_attr": inp["node_attr"][perm]})
    torch.testing.assert_close(dx_p, dx[perm], **TOL)
    torch.testing.assert_close(h_p, h[perm], **TOL)


def test_network_is_permutation_equivariant_with_edge_attributes() -> None:
    net, inp = _net(), _systems()
    perm = torch.cat([torch.tensor([3, 0, 4, 1, 2]), 5 + torch.tensor([2, 0, 1])])
    inverse = torch.argsort(perm)
    edges_p = inverse[inp["edge_index"]]  # the same edges under the new node labels, same order as edge_attr
    dx, h = net(**inp)
    dx_p, h_p = net(**{**inp, "x": inp["x"][perm], "node_attr": inp["node_attr"][perm], "edge_index": edges_p})
    torch.testing.assert_close(dx_p, dx[perm], **TOL)
    torch.testing.assert_close(h_p, h[perm], **TOL)


def test_systems_do_not_interact_and_time_and_mask_matter() -> None:
    net, inp = _net(), _systems()
    dx, _ = net(**inp)
    x2 = inp["x"].clone()
    x2[5:] += torch.randn(3, 6, 3, dtype=torch.float64)  # change only the second system
    dx2, _ = net(**{**inp, "x": x2})
    torch.testing.assert_close(dx2[:5], dx[:5])
    assert (dx2[5:] - dx[5:]).abs().max() > 1e-3
    dx_t, _ = net(**{**inp, "t": inp["t"] + 0.3})
    assert (dx_t - dx).abs().max() > 1e-4
    dx_m, _ = net(**{**inp, "cond_mask": torch.zeros(2, 6, dtype=torch.bool)})
    assert (dx_m - dx).abs().max() > 1e-4


def test_output_shapes_and_float32_dense_batches() -> None:
    torch.manual_seed(0)
    net = GeoTDMNetwork(node_dim=0, hidden=8, num_layers=1, heads=2, time_dim=8)
    x, batch = dense_to_graph(torch.randn(3, 4, 10, 3))
    dx, h = net(x, torch.rand(3), batch, cond_mask=torch.zeros(3, 10, dtype=torch.bool))
    assert dx.shape == (12, 10, 3)
    assert h.shape == (12, 10, 8)
    assert dx.dtype == torch.float32
    (dx.sum() + h.sum()).backward()  # the last layer's feature updates only reach h
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"x": torch.zeros(8, 6, 2, dtype=torch.float64)}, "x must be"),
        ({"t": torch.zeros(3, dtype=torch.float64)}, "t must hold"),
        ({"node_attr": None}, "node_attr"),
        ({"cond_mask": torch.zeros(5, dtype=torch.bool)}, "cond_mask"),
        ({"edge_attr": None}, "edge_attr"),
    ],
)
def test_bad_inputs_get_clear_errors(override: dict, message: str) -> None:
    net, inp = _net(), _systems()
    with pytest.raises(ValueError, match=message):
        net(**{**inp, **override})
