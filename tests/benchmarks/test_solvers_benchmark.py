"""A small version of ``benchmarks/solvers.py``: its reference is exact, and higher-order solvers beat DDIM."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import pytest
import torch

from condiff.core.analytic import GaussianMixture, gaussian_pf_ode_solution
from condiff.core.processes import VPProcess
from condiff.core.sampling import METHODS
from condiff.core.sampling.dpm_solver_v3 import compute_statistics
from tests.benchmarks.loader import load_benchmark


@pytest.fixture(scope="module")
def bench(repo_root: Path) -> ModuleType:
    torch.set_num_threads(1)
    return load_benchmark(repo_root, "solvers")


@pytest.fixture(scope="module")
def problem(bench: ModuleType):
    p = bench.make_problem(2, False, 64)
    x0 = p.data.sample(64, generator=torch.Generator().manual_seed(3))
    p.stats = compute_statistics(p.denoiser, p.process, x0, steps=40, generator=torch.Generator().manual_seed(4))
    return p


def test_reference_solution_is_exact_for_gaussian_data(bench: ModuleType) -> None:
    process = VPProcess("linear")
    g = torch.Generator().manual_seed(0)
    a = torch.randn(2, 2, generator=g, dtype=torch.float64)
    data = GaussianMixture.gaussian(torch.tensor([0.5, -1.0], dtype=torch.float64), 0.2 * a @ a.T + 0.01 * torch.eye(2))
    x_T = torch.randn(16, 2, generator=g, dtype=torch.float64)
    lam_end = float(process.log_snr(torch.tensor(process.t_min, dtype=torch.float64)))
    ref = bench.reference_solution(process, data, x_T, None, lam_end)(lam_end)
    exact = gaussian_pf_ode_solution(x_T, process.T, process.t_min, data.mean(), data.cov(), process)
    torch.testing.assert_close(ref, exact, rtol=0, atol=1e-7)


def _errors(bench: ModuleType, problem, cfg, nfes: tuple[int, ...]) -> list[float]:
    return [bench.run_condiff(problem, cfg, nfe, "logsnr")[0] for nfe in nfes]


def test_errors_shrink_with_nfe_and_second_order_solvers_beat_ddim(bench: ModuleType, problem) -> None:
    nfes = (5, 10, 20)
    ddim = _errors(bench, problem, bench.Config("DDIM", "ddim"), nfes)
    v3 = _errors(bench, problem, bench.Config("v3", "dpm-solver-v3", {"order": 2, "statistics": bench.STATS}), nfes)
    for errs in (ddim, v3):
        assert all(math.isfinite(e) for e in errs), errs
        assert errs[0] > errs[1] > errs[2], errs
    assert v3[2] < ddim[2] / 3, (v3, ddim)  # second vs first order at NFE 20
    if "dpm-solver++" in METHODS:
        pp = _errors(bench, problem, bench.Config("2M", "dpm-solver++", {"order": 2}), nfes)
        assert pp[1] < ddim[1] / 1.5, (pp, ddim)
        assert pp[2] < ddim[2] / 3, (pp, ddim)


# diffusers 0.42 builds numpy arrays from torch tensors the numpy-2 deprecated way
@pytest.mark.filterwarnings("ignore::DeprecationWarning:diffusers.*")
def test_diffusers_rows_query_the_same_exact_model(bench: ModuleType, problem) -> None:
    import diffusers  # noqa: F401  (a dev dependency: the comparison runs in CI)

    opts = {"solver_order": 2, "use_lu_lambdas": True, "final_sigmas_type": "sigma_min"}
    errs = [bench.run_diffusers(problem, "DPMSolverMultistepScheduler", opts, n) for n in (10, 20, 50)]
    assert [nfe for _, nfe in errs] == [10, 20, 50]
    values = [e for e, _ in errs]
    assert values[0] > values[1] > values[2], values
    assert values[2] < 5e-3, values  # converges to the same reference: the time mapping is consistent
