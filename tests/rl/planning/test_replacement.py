"""State replacement and the two planning modes on untrained networks: exact constraints and NFE."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from condiff.core.processes import VPProcess
from condiff.core.sampling import ModelDenoiser, sample
from condiff.rl.networks import CausalStateTransformer, InverseDynamics, PlanCritic, TemporalUNet
from condiff.rl.planning import Planner, ReplacementDenoiser
from condiff.rl.training import PlannerModels


def _planner(mode: str, **options: Any) -> Planner:
    torch.manual_seed(0)
    models = PlannerModels(
        CausalStateTransformer(4, 16, 2, d_model=16, num_layers=1, num_heads=2),
        InverseDynamics(4, 2, hidden=16),
        PlanCritic(4, 16, 2, hidden=16),
    )
    return Planner(
        TemporalUNet(4, 8, (1, 2), goal_dim=2), VPProcess(schedule="cosine"), "eps", models,
        np.zeros(4, np.float32), np.ones(4, np.float32), np.ones(2, np.float32), horizon=16, mode=mode,
        num_candidates=3, refine_steps=2, full_steps=6, **options,
    )  # fmt: skip


def test_replacement_fixes_the_first_state_and_keeps_x0_eps_consistent() -> None:
    process = VPProcess(schedule="cosine")
    net = TemporalUNet(4, 8, (1, 2), goal_dim=0)
    s0 = torch.randn(2, 4)
    den = ReplacementDenoiser(ModelDenoiser(net, process, "eps", cond={"start": s0}), process, s0)
    x, t = torch.randn(2, 4, 16), torch.full((2,), 0.5)
    x0, eps = den(x, t)
    torch.testing.assert_close(x0[:, :, 0], s0)
    c = process.coefficients(t)
    torch.testing.assert_close(c.a[:, None, None] * x0 + c.s[:, None, None] * eps, x, atol=1e-5, rtol=1e-5)
    res = sample(den, process, shape=(2, 4, 16), steps=4, method="ddim", generator=torch.Generator().manual_seed(0))
    assert res.x[:, :, 0].sub(s0).abs().max() < 0.05  # the last step ends on x0_hat, which holds s0


def test_replacement_clips_x0_per_state_dimension_and_keeps_the_pair_consistent() -> None:
    process = VPProcess(schedule="cosine")
    net = TemporalUNet(4, 8, (1, 2), goal_dim=0, start_conditioned=False)
    s0 = torch.full((2, 4), 3.0)  # the current state itself is never clipped
    lo, hi = torch.tensor([-1.0, -0.5, -2.0, -0.1]), torch.tensor([1.0, 0.5, 2.0, 0.1])
    den = ReplacementDenoiser(ModelDenoiser(net, process, "eps"), process, s0, (lo, hi))
    x, t = 3 * torch.randn(2, 4, 16), torch.full((2,), 0.99)  # near T: unclipped x0_hat is far out of range
    raw, _ = ReplacementDenoiser(ModelDenoiser(net, process, "eps"), process, s0)(x, t)
    assert bool((raw[:, :, 1:] > hi[None, :, None]).any())
    x0, eps = den(x, t)
    torch.testing.assert_close(x0[:, :, 0], s0)
    assert bool((x0[:, :, 1:] <= hi[None, :, None]).all())
    assert bool((x0[:, :, 1:] >= lo[None, :, None]).all())
    torch.testing.assert_close(x0[:, :, 1:], raw[:, :, 1:].clamp(lo[None, :, None], hi[None, :, None]))
    c = process.coefficients(t)
    torch.testing.assert_close(c.a[:, None, None] * x0 + c.s[:, None, None] * eps, x, atol=1e-5, rtol=1e-5)


def test_planner_clips_to_the_state_bounds_it_is_given() -> None:
    bounds = (np.full(4, -0.2, np.float32), np.full(4, 0.2, np.float32))
    states = np.zeros((2, 4), np.float32)
    plans = {}
    for clip in (True, False):
        planner = _planner("decision_diffuser", state_bounds=bounds, clip_x0=clip)
        plans[clip] = planner.plan(states, np.zeros((2, 2), np.float32), torch.Generator().manual_seed(0)).states
    # the last DDIM step ends at t_min, s(t_min) = 0.006 away from the clipped x0_hat
    assert np.abs(plans[True]).max() <= 0.25
    assert np.abs(plans[False]).max() > 0.5


@pytest.mark.parametrize(("mode", "nfe"), [("trajectory_diffuser", 2), ("decision_diffuser", 6)])
def test_planner_modes_start_at_the_current_state_and_use_their_step_budget(mode: str, nfe: int) -> None:
    planner = _planner(mode)
    states, goals = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32), np.zeros((2, 2), np.float32)
    plan = planner.plan(states, goals, torch.Generator().manual_seed(0))
    assert plan.states.shape == (2, 16, 4)
    assert plan.actions.shape == (2, 2)
    np.testing.assert_allclose(plan.states[:, 0], states, atol=1e-5)
    assert np.abs(plan.actions).max() <= 1.0
    assert plan.nfe == nfe


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        _planner("diffuser-xl")
