"""State replacement and the two planning modes on untrained networks: exact constraints and NFE."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from condiff.core.processes import VPProcess
from condiff.core.sampling import ModelDenoiser, sample
from condiff.rl.networks import CausalStateTransformer, InverseDynamics, PlanCritic, TemporalUNet
from condiff.rl.planning import Planner, ReplacementDenoiser
from condiff.rl.training import PlannerModels


def _planner(mode: str) -> Planner:
    torch.manual_seed(0)
    models = PlannerModels(
        CausalStateTransformer(4, 16, 2, d_model=16, num_layers=1, num_heads=2),
        InverseDynamics(4, 2, hidden=16),
        PlanCritic(4, 16, 2, hidden=16),
    )
    return Planner(
        TemporalUNet(4, 8, (1, 2), goal_dim=2), VPProcess(schedule="cosine"), "eps", models,
        np.zeros(4, np.float32), np.ones(4, np.float32), np.ones(2, np.float32), horizon=16, mode=mode,
        num_candidates=3, refine_steps=2, full_steps=6,
    )  # fmt: skip


def test_replacement_fixes_the_first_state_and_keeps_x0_eps_consistent() -> None:
    process = VPProcess(schedule="cosine")
    net = TemporalUNet(4, 8, (1, 2), goal_dim=0)
    s0 = torch.randn(2, 4)
    den = ReplacementDenoiser(ModelDenoiser(net, process, "eps"), process, s0)
    x, t = torch.randn(2, 4, 16), torch.full((2,), 0.5)
    x0, eps = den(x, t)
    torch.testing.assert_close(x0[:, :, 0], s0)
    c = process.coefficients(t)
    torch.testing.assert_close(c.a[:, None, None] * x0 + c.s[:, None, None] * eps, x, atol=1e-5, rtol=1e-5)
    res = sample(den, process, shape=(2, 4, 16), steps=4, method="ddim", generator=torch.Generator().manual_seed(0))
    assert res.x[:, :, 0].sub(s0).abs().max() < 0.05  # the last step ends on x0_hat, which holds s0


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
