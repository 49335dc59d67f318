"""The full sampler: given frames kept exactly, E(3) equivariance of the sample map, translation equivariance.

The model has random, non-trivial weights: the symmetries hold for any weights, so no training is needed.
Rotations are checked with rotated prior noise on the deterministic solvers (the map noise -> sample is then
E(3)-equivariant, and with an isotropic prior the generated distribution of a rotated condition is the rotated
distribution); translations with the same seed on every solver, the ancestral one included.
"""

from __future__ import annotations

import pytest
import torch

from condiff.core.errors import ConfigError
from condiff.core.processes import VPProcess
from condiff.molecules.geotdm import (
    GeoTDMModel,
    PriorShiftedProcess,
    Systems,
    sample_trajectories,
)
from condiff.molecules.geotdm.network import fully_connected_edges

TOL = {"atol": 1e-7, "rtol": 1e-7}
# A short VP path (alpha_T = 0.46): an untrained network's noise prediction is not divided by alpha_T ~ 0.006.
PROCESS = PriorShiftedProcess(VPProcess(beta_min=0.1, beta_max=3.0))


def _model(mode: str = "forecast") -> GeoTDMModel:
    torch.manual_seed(0)
    given = {"forecast": (3, 0), "interp": (2, 2), "uncond": (0, 0)}[mode]
    model = GeoTDMModel(
        mode, 7, *given, prior="learned", hidden=16, num_layers=2, heads=2, time_dim=8, prior_layers=1, sigma_data=0.2
    ).double()
    for net in [model.network] + ([model.prior.encoder] if model.prior and model.prior.encoder else []):
        for layer in net.spatial:
            torch.nn.init.normal_(layer.phi_x[-1].weight, std=0.1)
        for layer in net.temporal:
            torch.nn.init.normal_(layer.gate.weight, std=0.1)
    if model.prior is not None and model.prior.logits is not None:
        torch.nn.init.normal_(model.prior.logits.weight, std=0.1)
        torch.nn.init.normal_(model.prior.logits.bias, std=0.1)
    return model.eval()


def _systems() -> Systems:
    g = torch.Generator().manual_seed(0)
    batch = torch.tensor([0, 0, 0, 0, 1, 1, 1])  # systems of different sizes
    q = torch.where(torch.rand(7, generator=g) < 0.5, 1.0, -1.0).double()
    edges = fully_connected_edges(batch)
    x = torch.randn(7, 7, 3, generator=g, dtype=torch.float64)
    return Systems(x, batch, q[:, None], edges, (q[edges[0]] * q[edges[1]])[:, None])


def _noise(k: int = 2, seed: int = 1) -> torch.Tensor:
    return torch.randn(k, 7, 7, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


ODE = [("ddim", {"schedule": "uniform"}), ("dpm-solver++", {"schedule": "logsnr", "order": 2})]


@pytest.mark.parametrize("mode", ["forecast", "interp"])
def test_given_frames_are_kept_by_every_solver(mode: str) -> None:
    model, sys = _model(mode), _systems()
    with torch.no_grad():
        for method, opts in [*ODE, ("posterior", {"schedule": "uniform"})]:
            g = torch.Generator().manual_seed(0)
            res = sample_trajectories(
                model, PROCESS, sys, num_samples=2, steps=6, method=method, generator=g, copy_given=False, **opts
            )
            assert res.x.shape == (2, 7, 7, 3)
            given = model.given
            # the solvers themselves keep the given frames (no copy at the end), in float64 to rounding
            torch.testing.assert_close(res.x[:, :, given], sys.x[None, :, given].expand(2, -1, -1, -1), **TOL)
            assert (res.x[0] - res.x[1])[:, ~given].abs().min() > 0  # two different samples
            torch.testing.assert_close(res.mu[:, given], sys.x[:, given])


ROTATIONS = [(*ode, reflect, "forecast") for ode in ODE for reflect in (False, True)] + [(*ODE[1], True, "uncond")]


@pytest.mark.parametrize(("method", "opts", "reflect", "mode"), ROTATIONS)
def test_rotated_condition_and_noise_give_rotated_samples(method, opts, reflect, mode, orthogonal) -> None:
    model, sys = _model(mode), _systems()
    q = orthogonal(5, reflect)
    noise = _noise()
    with torch.no_grad():
        res = sample_trajectories(model, PROCESS, sys, num_samples=2, steps=5, method=method, noise=noise, **opts)
        rot = sample_trajectories(
            model, PROCESS, sys.with_x(sys.x @ q.T), num_samples=2, steps=5, method=method, noise=noise @ q.T, **opts
        )
    assert res.x.abs().max() > 0.1
    torch.testing.assert_close(rot.x, res.x @ q.T, **TOL)


@pytest.mark.parametrize("method", ["ddim", "dpm-solver++", "posterior"])
def test_translated_condition_gives_translated_samples_with_the_same_seed(method: str) -> None:
    model, sys = _model("forecast"), _systems()
    shift = torch.tensor([3.0, -2.0, 0.5], dtype=torch.float64)
    with torch.no_grad():
        out = [
            sample_trajectories(
                model,
                PROCESS,
                s,
                num_samples=2,
                steps=5,
                method=method,
                schedule="uniform",
                generator=torch.Generator().manual_seed(7),
            ).x
            for s in (sys, sys.with_x(sys.x + shift))
        ]
    torch.testing.assert_close(out[1], out[0] + shift, **TOL)


def test_unconditional_samples_are_centred_and_translation_invariant() -> None:
    model, sys = _model("uncond"), _systems()
    with torch.no_grad():
        res = sample_trajectories(
            model, PROCESS, sys, num_samples=1, steps=5, method="posterior", generator=torch.Generator().manual_seed(3)
        )
        moved = sample_trajectories(
            model,
            PROCESS,
            sys.with_x(sys.x + 5.0),
            num_samples=1,
            steps=5,
            method="posterior",
            generator=torch.Generator().manual_seed(3),
        )
    for b in (0, 1):
        com = res.x[0][sys.batch == b].mean(dim=(0, 1))
        torch.testing.assert_close(com, torch.zeros(3, dtype=torch.float64), atol=1e-10, rtol=0)
    torch.testing.assert_close(moved.x, res.x)  # the input trajectories are not read at all


def test_conditional_sampling_needs_a_prior_shifted_path() -> None:
    with pytest.raises(ConfigError, match="a \\+ b = 1"):
        sample_trajectories(_model(), PROCESS.process, _systems(), steps=2)
