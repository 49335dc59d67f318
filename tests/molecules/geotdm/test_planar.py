"""Planar GeoTDM (ETH-UCY): noise, states, prior and samples stay in the x-y plane; E(2) equivariance in the plane.

The model has random, non-trivial weights (as in ``test_sampling``): the properties hold for any weights.
"""

from __future__ import annotations

import math

import pytest
import torch

from condiff.core.errors import DataValidationError
from condiff.core.processes import VPProcess
from condiff.molecules.geotdm import (
    GeoTDMModel,
    PriorShiftedProcess,
    Systems,
    TrajectoryDiffusionModule,
    TrajectoryProjection,
    sample_trajectories,
)
from condiff.molecules.geotdm.network import fully_connected_edges

PROCESS = PriorShiftedProcess(VPProcess(beta_min=0.1, beta_max=3.0))
SOLVERS = [
    ("ddim", {"schedule": "uniform"}),
    ("dpm-solver++", {"schedule": "logsnr", "order": 2}),
    ("posterior", {"schedule": "uniform"}),
]


def _model(mode: str = "forecast", planar: bool = True) -> GeoTDMModel:
    torch.manual_seed(0)
    given = {"forecast": (3, 0), "uncond": (0, 0)}[mode]
    model = GeoTDMModel(
        mode, 7, *given, node_dim=0, edge_dim=0, hidden=16, num_layers=2, heads=2, time_dim=8, prior_layers=1,
        sigma_data=0.2, planar=planar,
    ).double()  # fmt: skip
    for net in [model.network] + ([model.prior.encoder] if model.prior and model.prior.encoder else []):
        for layer in net.spatial:
            torch.nn.init.normal_(layer.phi_x[-1].weight, std=0.1)
        for layer in net.temporal:
            torch.nn.init.normal_(layer.gate.weight, std=0.1)
    if model.prior is not None and model.prior.logits is not None:
        torch.nn.init.normal_(model.prior.logits.weight, std=0.1)
    return model.eval()


def _pedestrians() -> Systems:
    """Two scenes of 4 and 3 pedestrians, 7 frames, lifted to z = 0."""
    g = torch.Generator().manual_seed(0)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1])
    xy = torch.randn(7, 7, 2, generator=g, dtype=torch.float64).cumsum(dim=1)
    return Systems(
        torch.cat([xy, torch.zeros(7, 7, 1, dtype=torch.float64)], -1), batch, None, fully_connected_edges(batch)
    )


def _rotation_about_z(angle: float, reflect: bool) -> torch.Tensor:
    c, s = math.cos(angle), math.sin(angle)
    q = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    return q @ torch.diag(torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)) if reflect else q


def test_planar_projection_is_an_orthogonal_projector_and_off_is_unchanged() -> None:
    batch = torch.tensor([0, 0, 0, 1, 1])
    generated = torch.tensor([False, True, True, True])
    x, y = torch.randn(2, 5, 4, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for center in (False, True):
        p = TrajectoryProjection(batch, generated, center=center, planar=True)
        px = p(x)
        assert bool((px[..., 2] == 0).all())
        torch.testing.assert_close(p(px), px)  # idempotent
        torch.testing.assert_close((p(x) * y).sum(), (x * p(y)).sum())  # symmetric
        # the planar projector is the 3D one followed by dropping z
        full = TrajectoryProjection(batch, generated, center=center)(x)
        torch.testing.assert_close(px[..., :2], full[..., :2])
        assert full[..., 2].abs().max() > 0.1  # off: z untouched (the old 3D behaviour)
    off = TrajectoryProjection(batch, generated, center=True)(x)
    m = generated.double()[None, :, None]
    expected = x * m
    for b in (0, 1):
        rows = batch == b
        expected[rows] -= expected[rows].sum(dim=(0, 1)) / (int(rows.sum()) * 3)
    torch.testing.assert_close(off, expected * m)


CASES = [("forecast", *solver) for solver in SOLVERS] + [("uncond", *SOLVERS[2])]


@pytest.mark.parametrize(("mode", "method", "opts"), CASES)
def test_planar_samples_keep_z_exactly_zero(mode: str, method: str, opts: dict) -> None:
    model, sys = _model(mode), _pedestrians()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        res = sample_trajectories(
            model, PROCESS, sys, num_samples=2, steps=6, method=method, generator=g, copy_given=False, **opts
        )
    assert res.x[..., :2].abs().max() > 0.1
    assert bool((res.x[..., 2] == 0).all())  # exactly, not to rounding
    if res.mu is not None:
        assert bool((res.mu[..., 2] == 0).all())


def test_without_planar_the_same_model_draws_3d_noise() -> None:
    sys = _pedestrians()
    with torch.no_grad():
        res = [
            sample_trajectories(
                _model("forecast", planar=planar), PROCESS, sys, num_samples=2, steps=6, method="ddim",
                generator=torch.Generator().manual_seed(0),
            ).x
            for planar in (False, True)
        ]  # fmt: skip
    generated = ~_model().given
    assert res[0][:, :, generated, 2].abs().mean() > 0.1  # the old behaviour: z diffuses
    assert bool((res[1][..., 2] == 0).all())


@pytest.mark.parametrize(("mode", "angle", "reflect"), [("forecast", 0.7, False), ("uncond", 2.1, True)])
def test_planar_samples_are_equivariant_to_rotations_and_reflections_in_the_plane(
    mode: str, angle: float, reflect: bool
) -> None:
    model, sys = _model(mode), _pedestrians()
    q = _rotation_about_z(angle, reflect)
    noise = torch.randn(2, 7, 7, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        res = sample_trajectories(model, PROCESS, sys, num_samples=2, steps=5, method="ddim", noise=noise)
        rot = sample_trajectories(
            model, PROCESS, sys.with_x(sys.x @ q.T), num_samples=2, steps=5, method="ddim", noise=noise @ q.T
        )
    assert res.x.abs().max() > 0.1
    torch.testing.assert_close(rot.x, res.x @ q.T, atol=1e-7, rtol=1e-7)


def test_planar_training_rejects_data_off_the_plane() -> None:
    model = _model("forecast").float()
    module = TrajectoryDiffusionModule(model, PriorShiftedProcess(VPProcess()), "eps")
    sys = _pedestrians()
    batch = {"x0": sys.x.float(), "batch": sys.batch, "edge_index": sys.edge_index}
    assert torch.isfinite(module._loss(batch))
    lifted = sys.x.float().clone()
    lifted[0, 0, 2] = 0.5
    with pytest.raises(DataValidationError, match=r"training batch: .*task\.network\.planar.*max \|z\| = 0\.5"):
        module._loss({**batch, "x0": lifted})
