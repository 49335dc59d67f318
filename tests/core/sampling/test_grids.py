"""Time-step grids: exact end points, monotonicity, the spacing each schedule promises."""

from __future__ import annotations

import pytest
import torch

from condiff.core.processes import CondOTProcess, MeanRevertingProcess, ResidualProcess, VEProcess, VPProcess
from condiff.core.sampling.grids import GRIDS, grid_coefficients, time_grid

torch.set_num_threads(1)
PROCESSES = [VPProcess("linear"), VPProcess("cosine"), VEProcess(), MeanRevertingProcess(), CondOTProcess(),
             ResidualProcess()]  # fmt: skip


@pytest.mark.parametrize("schedule", GRIDS)
@pytest.mark.parametrize("process", PROCESSES, ids=lambda p: type(p).__name__)
def test_every_grid_starts_exactly_at_T_ends_at_t_min_and_decreases(schedule, process):
    for steps in (1, 2, 3, 10, 50):
        grid = time_grid(process, steps, schedule)
        assert grid.dtype == torch.float64
        assert grid.numel() == steps + 1
        assert grid[0].item() == process.T
        assert grid[-1].item() == process.t_min
        assert bool((grid[1:] < grid[:-1]).all())
        assert bool(torch.isfinite(grid).all())


def test_logsnr_karras_quadratic_spacing():
    process = VPProcess("linear")
    lam = grid_coefficients(process, time_grid(process, 10, "logsnr")).lam
    assert torch.allclose(torch.diff(lam), torch.diff(lam).mean().expand(10), atol=1e-9)
    for rho in (3.0, 7.0):
        c = grid_coefficients(process, time_grid(process, 10, "karras", rho=rho))
        u = (c.s / c.a) ** (1 / rho)
        assert torch.allclose(torch.diff(u), torch.diff(u).mean().expand(10), rtol=1e-7)
    g = time_grid(process, 4, "quadratic")
    u = torch.sqrt((g - process.t_min) / (process.T - process.t_min))
    assert torch.allclose(u, torch.linspace(1, 0, 5, dtype=torch.float64), atol=1e-12)


def test_edm_grid_uses_edm_sigma_range_inside_the_process_range():
    process = VEProcess(sigma_min=0.001, sigma_max=200.0)
    c = grid_coefficients(process, time_grid(process, 8, "edm"))
    sig = c.s / c.a
    assert sig[0].item() == pytest.approx(200.0)
    assert sig[-1].item() == pytest.approx(0.001, rel=1e-3)
    assert sig[1].item() < 80.0
    assert sig[-2].item() > 0.002
    # where EDM's range contains the process's, edm equals karras with rho = 7
    ve = VEProcess(sigma_min=0.01, sigma_max=50.0)
    assert torch.allclose(time_grid(ve, 6, "edm"), time_grid(ve, 6, "karras"), atol=1e-12)


def test_infinite_log_snr_end_takes_one_uniform_step():
    process = CondOTProcess()  # a(T) = 0
    grid = time_grid(process, 5, "logsnr")
    assert grid[1].item() == pytest.approx(process.T - (process.T - process.t_min) / 5)
    lam = grid_coefficients(process, grid).lam
    assert lam[0].item() == float("-inf")
    assert torch.allclose(torch.diff(lam[1:]), torch.diff(lam[1:]).mean().expand(4), rtol=1e-8)


def test_custom_grid_and_errors():
    process = VPProcess("linear")
    times = [1.0, 0.5, 0.2, 0.001]
    assert time_grid(process, 0, times).tolist() == times
    assert time_grid(process, 0, torch.tensor(times, dtype=torch.float64)).tolist() == times
    with pytest.raises(ValueError, match="decreasing"):
        time_grid(process, 0, [0.5, 1.0])
    with pytest.raises(ValueError, match="t_min"):
        time_grid(process, 0, [2.0, 0.5])
    with pytest.raises(ValueError, match="t_start"):
        time_grid(process, 0, times, t_start=0.9)
    with pytest.raises(ValueError, match="steps"):
        time_grid(process, 0, "logsnr")
    with pytest.raises(ValueError, match="schedule"):
        time_grid(process, 3, "nope")
