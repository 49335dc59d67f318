"""Masking schedules: endpoints, monotonicity, derivative against autograd, config errors."""

from __future__ import annotations

import math

import pytest
import torch

from condiff.core.discrete import CosineSchedule, GeometricSchedule, LinearSchedule, LogLinearSchedule, MaskSchedule
from condiff.core.errors import ConfigError

SCHEDULES: list[MaskSchedule] = [LogLinearSchedule(1e-3), LinearSchedule(), CosineSchedule(), GeometricSchedule()]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: type(s).__name__)
def test_alpha_decreases_from_one_and_derivative_matches_autograd(schedule: MaskSchedule) -> None:
    t = torch.linspace(0.0, 1.0, 101, dtype=torch.float64, requires_grad=True)
    alpha = schedule.alpha(t)
    (grad,) = torch.autograd.grad(alpha.sum(), t)
    torch.testing.assert_close(schedule.dalpha(t.detach()), grad, rtol=1e-10, atol=1e-12)
    alpha = alpha.detach()
    assert torch.all(alpha[1:] < alpha[:-1])
    assert float(alpha[0]) == pytest.approx(1.0, abs=2e-4)
    assert 0.0 <= float(alpha[-1]) <= 1e-3 + 1e-12
    assert torch.all(schedule.weight(t.detach()[1:-1]) < 0)


def test_closed_forms() -> None:
    t = torch.tensor([0.25], dtype=torch.float64)
    assert float(LogLinearSchedule(0.1).alpha(t)) == pytest.approx(1 - 0.9 * 0.25)
    assert float(CosineSchedule().alpha(t)) == pytest.approx(1 - math.cos(math.pi / 2 * 0.75))
    assert float(GeometricSchedule(0.01, 10.0).alpha(t)) == pytest.approx(math.exp(-(0.01**0.75) * 10.0**0.25))


@pytest.mark.parametrize(
    "build", [lambda: LogLinearSchedule(1.0), lambda: LogLinearSchedule(-0.1), lambda: GeometricSchedule(1.0, 0.5)]
)
def test_bad_values_raise_config_error(build) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="Schedule"):
        build()
