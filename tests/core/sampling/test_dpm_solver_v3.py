"""DPM-Solver-v3: empirical model statistics of an exact denoiser, the cache file, and the solver's exact answers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture, gaussian_pf_ode_solution
from condiff.core.errors import CheckpointError
from condiff.core.processes import MeanRevertingProcess, VPProcess
from condiff.core.sampling import sample
from condiff.core.sampling.dpm_solver_v3 import ModelStatistics, compute_statistics, load_statistics

D = 3
N = 64


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def _gaussian() -> GaussianMixture:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(D, D, generator=g, dtype=torch.float64)
    cov = 0.3 * a @ a.T + 0.05 * torch.eye(D, dtype=torch.float64)
    return GaussianMixture.gaussian(torch.tensor([1.0, -0.5, 0.3], dtype=torch.float64), cov)


def _case(name: str) -> tuple[object, torch.Tensor | None]:
    if name == "vp":
        return VPProcess("linear"), None
    return MeanRevertingProcess(), torch.tensor([0.5, 1.0, -1.0], dtype=torch.float64).expand(N, D)


def _problem(name: str, knots: int = 80) -> tuple:
    process, y = _case(name)
    data = _gaussian()
    den = AnalyticDenoiser(data, process, y=y)
    x0 = data.sample(N, generator=torch.Generator().manual_seed(1))
    stats = compute_statistics(den.x0_eps, process, x0, y, steps=knots, generator=torch.Generator().manual_seed(5))
    x_T = process.prior_sample((N, D), y=y, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    yv = None if y is None else y[0]
    exact = gaussian_pf_ode_solution(x_T, process.T, process.t_min, data.mean(), data.cov(), process, yv)
    return process, den, y, stats, x_T, exact


def _rmse(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).pow(2).mean().sqrt().item()


@pytest.mark.parametrize("name", ["vp", "mean-reverting"])
def test_converges_to_the_exact_pf_ode_solution_and_beats_dpm_solver_pp(name: str) -> None:
    process, den, y, stats, x_T, exact = _problem(name)
    plain = ModelStatistics.constant(stats.lam)  # l = 1, s = b = 0: DPM-Solver++
    steps_list = [10, 20, 40]
    errors, baseline = [], []
    for steps in steps_list:
        kw = dict(steps=steps, method="dpm-solver-v3", dtype=torch.float64, order=2, schedule="logsnr")
        res = sample(den.x0_eps, process, x_T, y, statistics=stats, **kw)
        assert res.nfe == steps
        errors.append(_rmse(res.x, exact))
        baseline.append(_rmse(sample(den.x0_eps, process, x_T, y, statistics=plain, **kw).x, exact))
    assert errors[0] > errors[1] > errors[2], errors
    slope = -math.log(errors[-1] / errors[0]) / math.log(steps_list[-1] / steps_list[0])
    assert slope > 1.7, (errors, slope)  # second order at least (states have std ~1)
    assert errors[-1] < 2e-3, errors
    # the statistics are what makes v3 better than its l = 1, s = b = 0 reduction at the same NFE
    assert all(e < 0.5 * b for e, b in zip(errors, baseline, strict=True)), (errors, baseline)


@pytest.mark.parametrize("name", ["vp", "mean-reverting"])
@pytest.mark.parametrize("schedule", ["logsnr", "uniform"])
@pytest.mark.parametrize(("l", "s"), [(1.0, 0.0), (0.0, -1.0)], ids=["data-prediction", "noise-prediction"])
def test_reductions_at_first_order_equal_ddim(name: str, schedule: str, l: float, s: float) -> None:
    """``l=1, s=b=0`` is DPM-Solver++ and ``l=0, s=-1, b=0`` DPM-Solver (paper Sec. 3.1): order 1 is DDIM."""
    process, y = _case(name)
    den = AnalyticDenoiser(_gaussian(), process, y=y)
    x_T = process.prior_sample((N, D), y=y, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    lam = process.log_snr(torch.tensor([process.T, process.t_min], dtype=torch.float64))
    stats = ModelStatistics.constant(torch.linspace(float(lam[0]), float(lam[1]), 7), l=l, s=s, b=0.0)
    kw = dict(steps=7, schedule=schedule, dtype=torch.float64)
    ddim = sample(den.x0_eps, process, x_T, y, method="ddim", **kw)
    v3 = sample(den.x0_eps, process, x_T, y, method="dpm-solver-v3", statistics=stats, order=1, corrector=False, **kw)
    torch.testing.assert_close(v3.x, ddim.x, rtol=1e-11, atol=1e-11)


def test_statistics_round_trip_through_the_cache_file(tmp_path: Path) -> None:
    process, y = _case("mean-reverting")
    data = _gaussian()
    den = AnalyticDenoiser(data, process, y=y)
    x0 = data.sample(N, generator=torch.Generator().manual_seed(1))
    path = tmp_path / "ems.safetensors"
    stats = compute_statistics(den.x0_eps, process, x0, y, steps=12, path=path)
    loaded = load_statistics(path)
    for key in ("lam", "l", "s", "b"):
        assert torch.equal(stats.to_tensors()[key], loaded.to_tensors()[key]), key
    x_T = process.prior_sample((N, D), y=y, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    kw = dict(steps=6, method="dpm-solver-v3", dtype=torch.float64)
    from_file = sample(den.x0_eps, process, x_T, y, statistics=str(path), **kw)
    from_object = sample(den.x0_eps, process, x_T, y, statistics=stats, **kw)
    assert torch.equal(from_file.x, from_object.x)


def test_bad_statistics_files_and_ranges_raise(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_statistics(tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match=r"bad\.safetensors"):
        load_statistics(bad)
    process = VPProcess("linear")
    den = AnalyticDenoiser(_gaussian(), process)
    x_T = torch.randn(4, D, dtype=torch.float64)
    narrow = ModelStatistics.constant(torch.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError, match="not covered by the statistics"):
        sample(den.x0_eps, process, x_T, steps=3, method="dpm-solver-v3", statistics=narrow)
    wrong_shape = ModelStatistics.constant(torch.tensor([-10.0, 10.0]), shape=(D + 1,))
    with pytest.raises(ValueError, match="do not broadcast"):
        sample(den.x0_eps, process, x_T, steps=3, method="dpm-solver-v3", statistics=wrong_shape)
    with pytest.raises(ValueError, match="order"):
        sample(den.x0_eps, process, x_T, steps=3, method="dpm-solver-v3", statistics=narrow, order=4)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_nfe_counts_denoiser_calls_and_float32_state_stays_finite(order: int) -> None:
    process = VPProcess("linear")
    den = AnalyticDenoiser(_gaussian(), process)
    calls = []

    def counted(x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        calls.append(1)
        return den.x0_eps(x, t)

    lam = process.log_snr(torch.tensor([process.T, process.t_min], dtype=torch.float64))
    stats = ModelStatistics.constant(torch.linspace(float(lam[0]), float(lam[1]), 5), l=0.5, s=-0.5, b=0.1)
    for steps in (1, 2, 5, 16):
        calls.clear()
        res = sample(counted, process, shape=(8, D), steps=steps, method="dpm-solver-v3", statistics=stats, order=order)
        assert res.nfe == len(calls) == steps
        assert res.x.dtype == torch.float32
        assert bool(torch.isfinite(res.x).all())
