"""Geometric priors (weights sum to one, equivariance, the ablation priors) and minADE/minFDE against hand values."""

from __future__ import annotations

import pytest
import torch

from condiff.molecules.geotdm import (
    GeometricPrior,
    displacement_errors,
    frame_mask,
    kinematic_baseline,
    min_ade_fde,
)
from condiff.molecules.geotdm.network import fully_connected_edges

TOL = {"atol": 1e-9, "rtol": 1e-9}


def _inputs() -> dict:
    g = torch.Generator().manual_seed(0)
    batch = torch.tensor([0, 0, 0, 1, 1])
    q = torch.where(torch.rand(5, generator=g) < 0.5, 1.0, -1.0).double()
    edges = fully_connected_edges(batch)
    return {
        "x": torch.randn(5, 6, 3, generator=g, dtype=torch.float64),
        "batch": batch,
        "node_attr": q[:, None],
        "edge_index": edges,
        "edge_attr": (q[edges[0]] * q[edges[1]])[:, None],
    }


def _learned(mask: torch.Tensor) -> GeometricPrior:
    torch.manual_seed(0)
    prior = GeometricPrior("learned", mask, node_dim=1, edge_dim=1, hidden=8, layers=1, heads=2, time_dim=8).double()
    assert prior.logits is not None
    torch.nn.init.normal_(prior.logits.weight, std=0.5)
    torch.nn.init.normal_(prior.logits.bias, std=0.5)
    return prior


@pytest.mark.parametrize("mask", [frame_mask("forecast", 6, 3), frame_mask("interp", 6, 2, 1)])
def test_learned_prior_is_an_affine_equivariant_combination(mask: torch.Tensor, orthogonal) -> None:
    prior, inp = _learned(mask), _inputs()
    w = prior.weights(**inp)
    assert w.shape == (5, int((~mask).sum()), int(mask.sum()))
    torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:2], dtype=torch.float64), **TOL)
    assert (w - prior.base).abs().max() > 0.1  # not just the nearest frame
    mu = prior(**inp)
    torch.testing.assert_close(mu[:, mask], inp["x"][:, mask])
    q, shift = orthogonal(2, True), torch.tensor([1.0, -4.0, 2.0], dtype=torch.float64)
    torch.testing.assert_close(prior(**{**inp, "x": inp["x"] @ q.T + shift}), mu @ q.T + shift, **TOL)
    perm = torch.tensor([2, 0, 1, 4, 3])
    edges_p = torch.argsort(perm)[inp["edge_index"]]
    moved = prior(**{**inp, "x": inp["x"][perm], "node_attr": inp["node_attr"][perm], "edge_index": edges_p})
    torch.testing.assert_close(moved, mu[perm], **TOL)


def test_learned_prior_starts_at_the_nearest_given_frame_and_ablations() -> None:
    mask, inp = frame_mask("forecast", 6, 3), _inputs()
    torch.manual_seed(0)
    fresh = GeometricPrior("learned", mask, 1, 1, hidden=8, layers=1, heads=2, time_dim=8).double()
    last = GeometricPrior("last", mask)
    x = inp["x"]
    expect = x.clone()
    expect[:, 3:] = x[:, 2:3]
    torch.testing.assert_close(fresh(**inp), expect)
    torch.testing.assert_close(last(**inp), expect)
    com = GeometricPrior("com", mask)(**inp)
    for nodes in (slice(0, 3), slice(3, 5)):
        centre = x[nodes, :3].mean(dim=(0, 1))
        torch.testing.assert_close(com[nodes, 3:], centre.expand(nodes.stop - nodes.start, 3, 3))


def test_ade_fde_by_hand() -> None:
    target = torch.zeros(3, 4, 3)
    batch = torch.tensor([0, 0, 1])
    generated = torch.tensor([False, False, True, True])
    samples = torch.zeros(2, 3, 4, 3)
    samples[0, 0, 2, 0] = 3.0  # sample 0: node 0 off by 3 at frame 2, node 2 off by 1 at frame 3
    samples[0, 2, 3, 1] = 1.0
    samples[1, 1, 3, 2] = -4.0  # sample 1: node 1 off by 4 at the last frame
    samples[1, 0, 0] = 100.0  # given frames are not scored
    ade, fde = displacement_errors(samples, target, batch, generated)
    # system 0 (nodes 0, 1): sample 0 frames (1.5, 0) -> ADE 0.75, FDE 0; sample 1 frames (0, 2) -> ADE 1, FDE 2
    # system 1 (node 2): sample 0 frames (0, 1) -> ADE 0.5, FDE 1; sample 1: 0, 0
    torch.testing.assert_close(ade, torch.tensor([[0.75, 0.5], [1.0, 0.0]]))
    torch.testing.assert_close(fde, torch.tensor([[0.0, 1.0], [2.0, 0.0]]))
    min_ade, min_fde = min_ade_fde(samples, target, batch, generated)
    torch.testing.assert_close(min_ade, torch.tensor([0.75, 0.0]))
    torch.testing.assert_close(min_fde, torch.tensor([0.0, 0.0]))  # each minimised on its own


def test_kinematic_baseline_is_exact_on_uniform_motion() -> None:
    g = torch.Generator().manual_seed(0)
    x0, v = torch.randn(4, 1, 3, generator=g), torch.randn(4, 1, 3, generator=g)
    x = x0 + v * torch.arange(8.0)[None, :, None]
    for mask in (frame_mask("forecast", 8, 2), frame_mask("interp", 8, 2, 1), frame_mask("interp", 8, 1, 3)):
        corrupted = torch.where(mask[None, :, None], x, torch.full_like(x, 50.0))
        torch.testing.assert_close(kinematic_baseline(corrupted, mask), x)
    one = frame_mask("forecast", 8, 1)  # a single given frame: constant position
    torch.testing.assert_close(kinematic_baseline(x, one), x[:, :1].expand(-1, 8, -1))
