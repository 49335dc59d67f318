"""One contract every method of ``condiff.core.sampling.METHODS`` must meet (methods join automatically).

NFE equals the number of denoiser calls; a per-sample seed fixes the sample whatever the
batch; no NaN or inf at any step count in float32, float16 and bfloat16 state; DDIM is Euler
in ``((x - b y)/a, s/a)`` for every process.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture
from condiff.core.processes import (
    CondOTProcess,
    MeanRevertingProcess,
    OUVEProcess,
    ResidualProcess,
    SubVPProcess,
    VEProcess,
    VPProcess,
)
from condiff.core.sampling import METHODS, sample
from condiff.core.sampling.ems import ModelStatistics
from condiff.core.sampling.noise import per_sample_generators

torch.set_num_threads(1)
D = 2
# Options a method needs to run here; methods not listed run with their defaults.
OPTIONS: dict[str, dict[str, Any]] = {
    "dpm-solver-adaptive": {"rtol": 1e-2, "atol": 1e-2},
    "interpolant-sde": {"epsilon": 1.0},
    # Constant statistics l=1, s=b=0 over a wide log-SNR range (DPM-Solver-v3's DPM-Solver++ reduction).
    "dpm-solver-v3": {"statistics": ModelStatistics.constant(torch.linspace(-40.0, 40.0, 801))},
}
# S4 integrates systems of SDEs on tuple states (ProductProcess): its contract (NFE, per-sample seeds,
# finite output) is tested on tuple states in test_stochastic.py, not on the single tensors used here.
TUPLE_STATE_METHODS = {"s4"}
CONTRACT_METHODS = sorted(set(METHODS) - TUPLE_STATE_METHODS)
STEP_COUNTS = (1, 2, 3, 5, 10, 25, 100)


def _data() -> GaussianMixture:
    means = torch.tensor([[1.0, -0.5], [-1.0, 0.5]], dtype=torch.float64)
    return GaussianMixture(means, torch.stack([0.1 * torch.eye(D, dtype=torch.float64)] * 2))


def _run(method: str, den, process, **kw: Any):
    return sample(den, process, method=method, **{**OPTIONS.get(method, {}), **kw})


@pytest.mark.parametrize("method", CONTRACT_METHODS)
def test_nfe_counts_denoiser_calls(method):
    process = VPProcess("linear")
    inner = AnalyticDenoiser(_data(), process).x0_eps
    calls = []

    def den(x, t):
        calls.append(1)
        return inner(x, t)

    for steps in (1, 4, 7):
        calls.clear()
        res = _run(method, den, process, shape=(3, D), steps=steps, generator=torch.Generator().manual_seed(0))
        assert res.nfe == len(calls), (steps, res.nfe, len(calls))


@pytest.mark.parametrize("method", CONTRACT_METHODS)
def test_per_sample_seeds_give_the_same_sample_whatever_the_batch(method):
    process = VPProcess("linear")
    den = AnalyticDenoiser(_data(), process).x0_eps
    seeds = [11, 12, 13, 14]
    full = _run(method, den, process, shape=(4, D), steps=6, generator=per_sample_generators(seeds),
                dtype=torch.float64).x  # fmt: skip
    part = _run(method, den, process, shape=(2, D), steps=6, generator=per_sample_generators(seeds[2:]),
                dtype=torch.float64).x  # fmt: skip
    assert torch.allclose(full[2:], part, atol=1e-10, rtol=1e-8)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize("method", CONTRACT_METHODS)
def test_no_nan_or_inf_at_any_step_count(method, dtype):
    process = VPProcess("linear")
    den = AnalyticDenoiser(_data(), process).x0_eps
    for steps in STEP_COUNTS:
        res = _run(method, den, process, shape=(4, D), steps=steps, dtype=dtype,
                   generator=torch.Generator().manual_seed(steps))  # fmt: skip
        assert bool(torch.isfinite(res.x.float()).all()), (steps, res.x)


PATHS = [VPProcess("linear"), VPProcess("cosine"), SubVPProcess(), VEProcess(), OUVEProcess(),
         MeanRevertingProcess(), ResidualProcess(), CondOTProcess()]  # fmt: skip


@pytest.mark.parametrize("process", PATHS, ids=lambda p: type(p).__name__)
def test_ddim_is_euler_in_the_rescaled_variables(process):
    """With ``xs = (x - b y)/a`` and ``sigma = s/a``: ``xs' = xs + (sigma' - sigma) eps_hat`` (DDIM eq. 14)."""
    y = torch.tensor([0.3, -0.7], dtype=torch.float64)
    den = AnalyticDenoiser(_data(), process, y=y).x0_eps
    t_start = process.T if process.coefficients64(process.T).a > 0 else 0.95 * process.T
    x = torch.randn(5, D, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    grid = torch.linspace(t_start, process.t_min, 4, dtype=torch.float64).tolist()
    res = sample(den, process, x, y, steps=0, schedule=grid, method="ddim", dtype=torch.float64)
    xs = x
    for t, t_next in itertools.pairwise(grid):
        c, n = process.coefficients64(t), process.coefficients64(t_next)
        _, eps = den(xs, torch.full((5,), t, dtype=torch.float64))
        z = (xs - c.b * y) / c.a
        z = z + (n.s / n.a - c.s / c.a) * eps
        xs = n.a * z + n.b * y
    # the exact posterior pairs (x0_hat, eps_hat) to ~1e-10 at small s, which the last steps amplify
    assert torch.allclose(res.x, xs, rtol=1e-6, atol=1e-6), (res.x - xs).abs().max()
