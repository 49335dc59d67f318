"""Shapes, conditioning and causality of the planner's networks."""

from __future__ import annotations

import pytest
import torch

from condiff.rl.networks import CausalStateTransformer, InverseDynamics, PlanCritic, TemporalUNet


def test_temporal_unet_shape_and_return_dropout() -> None:
    torch.manual_seed(0)
    net = TemporalUNet(4, 8, (1, 2), goal_dim=2)
    x, t, goal, s0 = torch.randn(3, 4, 16), torch.rand(3), torch.randn(3, 2), torch.randn(3, 4)
    out = net(x, t, returns=torch.rand(3, 1), goal=goal, start=s0, cond_drop=torch.tensor([True, False, True]))
    assert out.shape == x.shape
    # dropping the return equals passing none; the goal and the current state are always used
    uncond = net(x, t, returns=None, goal=goal, start=s0)
    dropped = net(x, t, returns=torch.rand(3, 1), goal=goal, start=s0, cond_drop=torch.ones(3, dtype=torch.bool))
    torch.testing.assert_close(dropped, uncond)
    assert not torch.allclose(net(x, t, goal=goal + 1, start=s0), uncond)
    assert not torch.allclose(net(x, t, goal=goal, start=s0 + 1), uncond)


def test_temporal_unet_sees_the_clean_current_state_only_at_step_0() -> None:
    torch.manual_seed(0)
    net = TemporalUNet(4, 8, (1, 2), goal_dim=0)
    x, t, s0 = torch.randn(2, 4, 16), torch.rand(2), torch.randn(2, 4)
    inp = net._with_start(x, s0)
    assert inp.shape == (2, 9, 16)
    torch.testing.assert_close(inp[:, :4], x)
    torch.testing.assert_close(inp[:, 4:8, 0], s0)
    assert inp[:, 4:, 1:].abs().max() == 0
    torch.testing.assert_close(inp[:, 8, 0], torch.ones(2))
    plain = TemporalUNet(4, 8, (1, 2), goal_dim=0, start_conditioned=False)
    assert plain.inp.in_channels == 4
    torch.testing.assert_close(plain(x, t, start=s0), plain(x, t))  # ignored when not conditioned


def test_temporal_unet_rejects_bad_shapes_and_missing_goal_or_start() -> None:
    net = TemporalUNet(4, 8, (1, 2, 4), goal_dim=2)
    s0 = torch.randn(2, 4)
    with pytest.raises(ValueError, match="multiple of 4"):
        net(torch.randn(2, 4, 10), torch.rand(2), goal=torch.randn(2, 2), start=s0)
    with pytest.raises(ValueError, match=r"\(B, 4, H\)"):
        net(torch.randn(2, 3, 16), torch.rand(2), goal=torch.randn(2, 2), start=s0)
    with pytest.raises(ValueError, match="goal"):
        net(torch.randn(2, 4, 16), torch.rand(2), start=s0)
    with pytest.raises(ValueError, match="start"):
        net(torch.randn(2, 4, 16), torch.rand(2), goal=torch.randn(2, 2))


def test_transformer_is_causal_and_proposals_start_at_s0() -> None:
    torch.manual_seed(0)
    tr = CausalStateTransformer(3, horizon=8, goal_dim=0, d_model=16, num_layers=2, num_heads=2).eval()
    s, r = torch.randn(2, 8, 3), torch.rand(2, 1)
    mean, _ = tr(s, r)
    s2 = s.clone()
    s2[:, 5:] += 10.0  # changing the future must not change earlier predictions
    mean2, _ = tr(s2, r)
    torch.testing.assert_close(mean[:, :5], mean2[:, :5])
    assert not torch.allclose(mean[:, 5:], mean2[:, 5:])
    g = torch.Generator().manual_seed(1)
    plan = tr.propose(s[:, 0], r, None, 8, g)
    assert plan.shape == (2, 8, 3)
    torch.testing.assert_close(plan[:, 0], s[:, 0])


def test_inverse_dynamics_and_critic_shapes() -> None:
    inv = InverseDynamics(4, 2, hidden=16)
    assert inv(torch.randn(5, 4), torch.randn(5, 4)).shape == (5, 2)
    with pytest.raises(ValueError, match="InverseDynamics"):
        inv(torch.randn(5, 4), torch.randn(5, 3))
    critic = PlanCritic(4, 8, goal_dim=2, hidden=16)
    assert critic(torch.randn(5, 8, 4), torch.randn(5, 2)).shape == (5,)
    with pytest.raises(ValueError, match="goal"):
        critic(torch.randn(5, 8, 4))
