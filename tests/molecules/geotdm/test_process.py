"""Masks, the prior-shifted path and the trajectory projection: exact identities."""

from __future__ import annotations

import pytest
import torch

from condiff.core.errors import ConfigError
from condiff.core.processes import DiscreteVPProcess, VPProcess
from condiff.molecules.geotdm import (
    PriorShiftedProcess,
    TrajectoryProjection,
    frame_mask,
    keeps_given_frames,
    nearest_given,
    trajectory_process,
)


def _ddpm() -> DiscreteVPProcess:
    return DiscreteVPProcess(betas=torch.linspace(1e-4, 0.02, 1000))


def test_frame_masks_of_the_three_modes() -> None:
    assert frame_mask("uncond", 4).tolist() == [False] * 4
    assert frame_mask("forecast", 5, 2).tolist() == [True, True, False, False, False]
    assert frame_mask("interp", 6, 2, 1).tolist() == [True, True, False, False, False, True]
    with pytest.raises(ConfigError, match="leave none"):
        frame_mask("forecast", 3, 3)
    with pytest.raises(ConfigError, match="interp needs"):
        frame_mask("interp", 6, 2)
    with pytest.raises(ConfigError, match="mode"):
        frame_mask("inpaint", 6, 2)


def test_nearest_given_frame_for_forecast_and_interp() -> None:
    assert nearest_given(frame_mask("forecast", 5, 2)).argmax(1).tolist() == [1, 1, 1]  # the last given frame
    # interp, given frames (0, 1, 5): frame 2 -> 1 (column 1); 3 -> tie of 1 and 5, the earlier; 4 -> 5 (column 2)
    assert nearest_given(frame_mask("interp", 6, 2, 1)).argmax(1).tolist() == [1, 1, 2]


def test_prior_shifted_path_is_vp_around_the_prior_mean() -> None:
    base = _ddpm()
    p = PriorShiftedProcess(base)
    t = torch.linspace(base.t_min, 1.0, 11, dtype=torch.float64)
    c, cb = p.coefficients64(t), base.coefficients64(t)
    torch.testing.assert_close(c.a, cb.a)
    torch.testing.assert_close(c.b, 1 - cb.a)
    torch.testing.assert_close(c.db, -cb.da)
    torch.testing.assert_close(p.log_snr(t), base.log_snr(t))
    assert keeps_given_frames(p)
    assert not keeps_given_frames(base)
    g = torch.Generator().manual_seed(0)
    x0, mu, eps = (torch.randn(4, 6, 3, generator=g, dtype=torch.float64) for _ in range(3))
    tt = torch.full((4,), 0.3, dtype=torch.float64)
    x_t, _ = p.marginal_sample(x0, tt, mu, noise=eps)
    a, s = (float(v) for v in (base.coefficients64(torch.tensor(0.3)).a, base.coefficients64(torch.tensor(0.3)).s))
    torch.testing.assert_close(x_t, mu + a * (x0 - mu) + s * eps)  # GeoTDM eq. 9
    with pytest.raises(ConfigError, match="b = 0"):
        PriorShiftedProcess(p)


def test_trajectory_projection_is_an_orthogonal_projector_per_system() -> None:
    batch = torch.tensor([0, 0, 0, 1, 1])
    generated = frame_mask("forecast", 4, 1).logical_not()
    g = torch.Generator().manual_seed(1)
    for center in (False, True):
        proj = TrajectoryProjection(batch, generated, center)
        x, z = (torch.randn(5, 4, 3, generator=g, dtype=torch.float64) for _ in range(2))
        px = proj(x)
        torch.testing.assert_close(proj(px), px)  # idempotent
        torch.testing.assert_close((proj(x) * z).sum(), (x * proj(z)).sum())  # symmetric
        assert px[:, 0].abs().max() == 0  # given frame untouched by noise
        if center:
            for b in (0, 1):
                torch.testing.assert_close(px[batch == b].sum(dim=(0, 1)), torch.zeros(3, dtype=torch.float64))
    # uncond: all frames, each system's centre of mass removed, systems independent
    proj = TrajectoryProjection(batch, None, center=True)
    x = torch.randn(5, 4, 3, generator=g, dtype=torch.float64)
    shifted = x.clone()
    shifted[3:] += torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    torch.testing.assert_close(proj(shifted), proj(x))


def test_projected_process_keeps_given_frames_at_the_condition() -> None:
    batch = torch.tensor([0, 0, 1, 1, 1])
    generated = frame_mask("forecast", 5, 2).logical_not()
    proc = trajectory_process(PriorShiftedProcess(VPProcess()), batch, generated)
    g = torch.Generator().manual_seed(2)
    x0, mu = (torch.randn(5, 5, 3, generator=g) for _ in range(2))
    mu[:, :2] = x0[:, :2]
    x_t, eps = proc.marginal_sample(x0, torch.full((5,), 0.7), mu, generator=g)
    torch.testing.assert_close(x_t[:, :2], x0[:, :2])
    assert eps[:, :2].abs().max() == 0
    assert eps[:, 2:].abs().min() > 0
