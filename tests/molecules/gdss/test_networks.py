"""Both GDSS score networks are permutation equivariant, respect node masks, and the A-output is symmetric."""

from __future__ import annotations

import pytest
import torch

from condiff.molecules.gdss.networks import GDSSNetwork, ScoreNetworkA, ScoreNetworkX
from condiff.molecules.graphs.tensors import mask_adjacency, mask_nodes, symmetric_noise


def _graph_batch(b: int = 3, n: int = 7, f: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    flags = torch.ones(b, n)
    flags[0, 5:] = 0  # graphs of different sizes
    flags[1, 6:] = 0
    x = mask_nodes(torch.randn(b, n, f, generator=g), flags)
    adj = symmetric_noise((b, n, n), flags, g)
    return x, adj, flags


def _permute(x: torch.Tensor, adj: torch.Tensor, flags: torch.Tensor, perm: torch.Tensor):
    return x[:, perm], adj[:, perm][:, :, perm], flags[:, perm]


@pytest.fixture
def nets() -> tuple[ScoreNetworkX, ScoreNetworkA]:
    torch.manual_seed(0)
    return ScoreNetworkX(4, depth=2, hidden=8), ScoreNetworkA(4, hidden=8, attn_dim=8, num_layers=3, c_hid=4, c_final=2)


def test_score_network_x_is_permutation_equivariant(nets) -> None:
    x, adj, flags = _graph_batch()
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(1))
    out = nets[0](x, adj, flags)
    out_p = nets[0](*_permute(x, adj, flags, perm))
    torch.testing.assert_close(out_p, out[:, perm], atol=1e-5, rtol=1e-5)


def test_score_network_a_is_permutation_equivariant_symmetric_and_masked(nets) -> None:
    x, adj, flags = _graph_batch()
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(2))
    out = nets[1](x, adj, flags)
    out_p = nets[1](*_permute(x, adj, flags, perm))
    torch.testing.assert_close(out_p, out[:, perm][:, :, perm], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out, out.transpose(-1, -2))
    assert torch.all(out.diagonal(dim1=-2, dim2=-1) == 0)
    assert torch.equal(out, mask_adjacency(out, flags))


def test_padded_nodes_do_not_influence_real_ones(nets) -> None:
    x, adj, flags = _graph_batch()
    net = GDSSNetwork(*nets)
    out_x, out_a = net((x, adj), torch.zeros(3), flags=flags)
    x2, adj2 = x.clone(), adj.clone()
    x2[0, 6] = 5.0  # garbage on a padded node
    adj2[0, 6, :] = adj2[0, :, 6] = 3.0
    out_x2, out_a2 = net((x2, adj2), torch.zeros(3), flags=flags)
    torch.testing.assert_close(out_x2, out_x)
    torch.testing.assert_close(out_a2, out_a)
    assert torch.all(out_x[0, 5:] == 0)


def test_wrong_shapes_are_reported(nets) -> None:
    with pytest.raises(ValueError, match="flags must be"):
        nets[0](torch.zeros(2, 5, 4), torch.zeros(2, 5, 5), torch.ones(2, 4))
