"""Exponential-integrator solvers against the exact probability-flow solution of Gaussian data."""

from __future__ import annotations

import functools
import math

import pytest
import torch

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture, gaussian_pf_ode_solution
from condiff.core.processes import CondOTProcess, MeanRevertingProcess, ResidualProcess, VPProcess
from condiff.core.processes.bridges import BrownianBridgeProcess
from condiff.core.sampling import sample as _sample
from condiff.core.sampling import time_grid
from condiff.core.sampling.dpm_solver import multistep_update
from condiff.core.sampling.exp_integrator import Node
from condiff.core.sampling.thresholding import ThresholdedDenoiser, dynamic_threshold

# These convergence tests were calibrated on the logSNR-uniform grid (sample()'s default is quadratic).
sample = functools.partial(_sample, schedule="logsnr")

torch.set_num_threads(1)
D = 3
Y = torch.tensor([0.5, 1.0, -1.0], dtype=torch.float64)
FAST, LATE, LATEST = (16, 32, 64, 128), (64, 128, 256), (128, 256, 512)


def _gaussian() -> GaussianMixture:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(D, D, generator=g, dtype=torch.float64)
    mean = torch.tensor([1.0, -0.5, 0.3], dtype=torch.float64)
    return GaussianMixture.gaussian(mean, 0.3 * a @ a.T + 0.05 * torch.eye(D, dtype=torch.float64))


def _mixture() -> GaussianMixture:
    means = torch.tensor([[1.5, 0.0, -1.0], [-1.0, 1.0, 0.5], [0.0, -1.5, 1.0]], dtype=torch.float64)
    covs = torch.stack([s * torch.eye(D, dtype=torch.float64) for s in (0.05, 0.1, 0.02)])
    return GaussianMixture(means, covs, torch.tensor([0.5, 0.3, 0.2]))


def _start(data: GaussianMixture, process, y, n: int = 32, t0: float | None = None):
    t0 = 0.9 * process.T if t0 is None else t0
    x0 = data.sample(n, generator=torch.Generator().manual_seed(1))
    yb = None if y is None else y.expand(n, D)
    noise = torch.randn(x0.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    x, _ = process.marginal_sample(x0, torch.full((n,), t0, dtype=torch.float64), yb, noise)
    return x, t0


# (method, options, theoretical order, step counts in the asymptotic regime). Multistep methods of
# order >= 3 start with singlestep steps of full order (warmup="singlestep"): the papers' lower-order
# start has an O(h^2) first-step error that caps the global order at 2 (measured: 2.0-2.2).
CONVERGENCE = [
    ("dpm-solver", {"order": 1}, 1, FAST),
    ("dpm-solver", {"order": 2}, 2, FAST),
    ("dpm-solver", {"order": 3, "warmup": "singlestep"}, 3, LATE),
    ("dpm-solver", {"order": 2, "variant": "singlestep"}, 2, FAST),
    ("dpm-solver", {"order": 3, "variant": "singlestep"}, 3, FAST),
    ("dpm-solver++", {"order": 2}, 2, FAST),
    ("dpm-solver++", {"order": 2, "solver_type": "taylor"}, 2, FAST),
    ("dpm-solver++", {"order": 3, "warmup": "singlestep"}, 3, LATEST),
    ("dpm-solver++", {"order": 2, "variant": "singlestep"}, 2, FAST),
    ("unipc", {"order": 1}, 2, FAST),
    ("unipc", {"order": 2}, 3, FAST),
    ("unipc", {"order": 2, "variant": "bh1"}, 3, FAST),
    ("unipc", {"order": 2, "predict_x0": False}, 3, FAST),
    ("unipc", {"order": 3, "warmup": "singlestep"}, 4, LATE),
    ("unipc", {"order": 2, "corrector": False}, 2, FAST),
    ("deis", {"order": 2}, 2, FAST),
    ("deis", {"order": 3, "warmup": "singlestep"}, 3, FAST),
    ("deis", {"order": 2, "variant": "rhoab"}, 2, LATE),
    ("deis", {"order": 3, "variant": "rhoab", "warmup": "singlestep"}, 3, LATE),
    ("mrs", {"order": 1}, 1, FAST),
    ("mrs", {"order": 2}, 2, FAST),
    ("mrs", {"order": 3, "warmup": "singlestep"}, 3, LATEST),
    ("mrs", {"order": 2, "param": "noise"}, 2, FAST),
    ("mrs", {"order": 2, "param": "velocity"}, 2, FAST),
    ("mrs", {"order": 3, "param": "velocity", "warmup": "singlestep"}, 3, FAST),
]


def _slope(steps: tuple[int, ...], errors: list[float]) -> float:
    ls, le = torch.log(torch.tensor(steps, dtype=torch.float64)), torch.log(torch.tensor(errors, dtype=torch.float64))
    ls = ls - ls.mean()
    return -float((ls * (le - le.mean())).sum() / (ls * ls).sum())


@pytest.mark.parametrize(("method", "options", "order", "steps"), CONVERGENCE, ids=lambda v: str(v))
def test_error_against_the_exact_pf_ode_solution_shrinks_with_the_theoretical_order(method, options, order, steps):
    data = _gaussian()
    for process, y in ((VPProcess("linear"), None), (MeanRevertingProcess(), Y)):
        x, t0 = _start(data, process, y)
        t1 = process.t_min + 0.05
        exact = gaussian_pf_ode_solution(x, t0, t1, data.mean(), data.cov(), process, y)
        den = AnalyticDenoiser(data, process).x0_eps if y is None else AnalyticDenoiser(data, process, y=y).x0_eps
        errors = []
        for n in steps:
            res = sample(den, process, x, y, steps=n, method=method, t_start=t0, t_end=t1, dtype=torch.float64,
                         lower_order_final=False, **options)  # fmt: skip
            errors.append((res.x - exact).abs().max().item())
        slope = _slope(steps, errors)
        assert abs(slope - order) < 0.3, (type(process).__name__, errors, slope)


def test_third_order_multistep_is_exact_for_a_quadratic_model_output():
    """DPM-Solver(++)-3M integrates ``x0(lambda)`` quadratic in ``lambda`` exactly.

    The reference codes (DPM-Solver's ``multistep_dpm_solver_third_update``, diffusers, the MRS
    code) weight ``D2 = (D1_0 - D1_1)/(r0 + r1) ~ h^2 x0''/2`` by ``phi_3`` instead of ``2 phi_3``:
    their 3M is second order. Here the weight is ``2 phi_3`` (see docs/solvers.md).
    """

    def f(lam: float) -> torch.Tensor:
        return torch.tensor([(lam - 0.1) ** 2 + 0.5 * lam], dtype=torch.float64)

    lams = [-0.5, -0.1, 0.3, 0.8]
    nodes = [Node(t=1.0 - 0.1 * i, a=math.exp(lam) / math.hypot(math.exp(lam), 1.0), b=0.0,
                  s=1.0 / math.hypot(math.exp(lam), 1.0), lam=lam) for i, lam in enumerate(lams)]  # fmt: skip
    hist = [(n, f(n.lam)) for n in nodes[:3]]
    p, q = nodes[2], nodes[3]
    r = torch.zeros(1, dtype=torch.float64)
    # exact: r_q = s_q int e^lam x0(lam) dlam from p to q (r_p = 0)
    g = torch.linspace(p.lam, q.lam, 20001, dtype=torch.float64)
    vals = torch.exp(g) * ((g - 0.1) ** 2 + 0.5 * g)
    exact = q.s * float(torch.trapezoid(vals, g))
    got = float(multistep_update(r, hist, q, 3, True, "midpoint"))
    assert got == pytest.approx(exact, rel=1e-7)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_mrs_ode_is_the_taylor_form_of_dpm_solver_on_the_mean_reverting_process(order):
    process, data = MeanRevertingProcess(), _gaussian()
    x, _t0 = _start(data, process, Y)
    den = AnalyticDenoiser(data, process, y=Y).x0_eps
    for param, other in (("data", "dpm-solver++"), ("noise", "dpm-solver")):
        a = sample(den, process, x, Y, steps=12, method="mrs", order=order, param=param, dtype=torch.float64)
        b = sample(den, process, x, Y, steps=12, method=other, order=order, solver_type="taylor", dtype=torch.float64)
        assert torch.equal(a.x, b.x)
        assert a.nfe == b.nfe == 12


@pytest.mark.parametrize("order", [1, 2])
def test_mrs_sde_data_is_sde_dpm_solver_pp_taylor(order):
    process, data = MeanRevertingProcess(), _gaussian()
    x, _ = _start(data, process, Y, t0=process.T)
    den = AnalyticDenoiser(data, process, y=Y).x0_eps
    kw = {"steps": 10, "order": order, "dtype": torch.float64}
    a = sample(den, process, x, Y, method="mrs", solver="sde", generator=torch.Generator().manual_seed(5), **kw)
    b = sample(den, process, x, Y, method="sde-dpm-solver++", solver_type="taylor",
               generator=torch.Generator().manual_seed(5), **kw)  # fmt: skip
    assert torch.equal(a.x, b.x)


MIXTURE_METHODS = [
    ("dpm-solver", {}), ("dpm-solver", {"order": 3, "variant": "singlestep"}), ("dpm-solver++", {}),
    ("dpm-solver++", {"order": 3}), ("dpm-solver++", {"variant": "singlestep"}), ("unipc", {}),
    ("unipc", {"variant": "bh1", "order": 3}), ("deis", {}), ("deis", {"order": 3, "variant": "rhoab"}),
    ("mrs", {}), ("mrs", {"param": "noise", "order": 3}), ("mrs", {"param": "velocity"}),
    ("dpm-solver-adaptive", {"rtol": 1e-4, "atol": 1e-4}),
]  # fmt: skip


@functools.cache
def _mixture_problem(k: int):
    process, y = ((VPProcess("linear"), None), (MeanRevertingProcess(sigma_inf=1.0), Y))[k]
    data = _mixture()
    den = AnalyticDenoiser(data, process, y=y).x0_eps
    x, _ = _start(data, process, y, n=16, t0=process.T)
    ref = sample(den, process, x, y, steps=600, method="dpm-solver++", order=3, variant="singlestep",
                 dtype=torch.float64).x  # fmt: skip
    return process, y, den, x, ref


@pytest.mark.parametrize(("method", "options"), MIXTURE_METHODS, ids=lambda v: str(v))
def test_every_method_at_50_nfe_matches_a_fine_reference_on_a_gaussian_mixture(method, options):
    """At 50 steps: mean abs error < 0.02 and max < 0.1, states of scale ~1.5 (measured max 0.01-0.07).

    The reference is DPM-Solver++(3S) with 3 x 600 calls (it agrees with 3 x 300 calls and with
    noise-prediction DPM-Solver-3 to 4e-5).
    """
    for k in (0, 1):
        process, y, den, x, ref = _mixture_problem(k)
        res = sample(den, process, x, y, steps=50, method=method, dtype=torch.float64, **options)
        assert res.nfe >= 50 or method == "dpm-solver-adaptive"
        err = (res.x - ref).abs()
        assert err.mean().item() < 0.02, (type(process).__name__, err.mean(), res.nfe)
        assert err.max().item() < 0.1, (type(process).__name__, err.max(), res.nfe)


@pytest.mark.parametrize(("method", "options", "steps"), [
    ("sde-dpm-solver++", {"order": 1}, 400), ("sde-dpm-solver++", {"order": 2}, 100),
    ("mrs", {"solver": "sde", "order": 2}, 100), ("mrs", {"solver": "sde", "param": "noise", "order": 1}, 400),
])  # fmt: skip
def test_sde_variants_reproduce_the_target_moments(method, options, steps):
    """First-order SDE steps have a weak O(h) bias (covariance off by 10 % at 100 steps): 400 steps for order 1."""
    data, n = _gaussian(), 20000
    for process, y in ((VPProcess("linear"), None), (MeanRevertingProcess(sigma_inf=1.0), Y)):
        den = AnalyticDenoiser(data, process, y=y).x0_eps
        g = torch.Generator().manual_seed(3)
        res = sample(den, process, y=y, shape=(n, D), steps=steps, method=method, generator=g, dtype=torch.float64,
                     t_end=process.t_min, **options)  # fmt: skip
        mean, cov = data.marginal_moments(process, process.t_min, y)
        assert (res.x.mean(0) - mean).abs().max().item() < 0.04  # MC error ~0.01
        rel = torch.linalg.matrix_norm(torch.cov(res.x.T) - cov) / torch.linalg.matrix_norm(cov)
        assert rel.item() < 0.06


METHODS_ALL = ["dpm-solver", "dpm-solver++", "sde-dpm-solver++", "unipc", "deis", "mrs"]


@pytest.mark.parametrize("method", METHODS_ALL)
def test_final_step_into_s_zero_is_finite_and_denoises(method):
    process = VPProcess("linear", t_min=0.0)
    data = _gaussian()
    den = AnalyticDenoiser(data, process).x0_eps
    x, _ = _start(data, process, None, n=8, t0=1.0)
    for order in (1, 2, 3):
        opts = {"order": min(order, 2)} if method == "sde-dpm-solver++" else {"order": order}
        calls = []

        def spy(xx, tt, calls=calls):
            out = den(xx, tt)
            calls.append(out[0])
            return out

        res = sample(spy, process, x, steps=6, method=method, t_end=0.0, dtype=torch.float64,
                     lower_order_final=False, generator=torch.Generator().manual_seed(0), **opts)  # fmt: skip
        assert bool(torch.isfinite(res.x).all())
        assert torch.allclose(res.x, calls[-1], atol=1e-12)  # a(0) = 1, s(0) = 0: x = x0_hat


@pytest.mark.parametrize("process", [CondOTProcess(), ResidualProcess()], ids=["condot", "rddm"])
@pytest.mark.parametrize("method", [*METHODS_ALL, "mrs-velocity", "dpm-solver-single"])
def test_processes_with_a_zero_at_T_give_finite_samples(process, method):
    data = _gaussian()
    y = Y if isinstance(process, ResidualProcess) else None
    den = AnalyticDenoiser(data, process, y=y).x0_eps
    opts = {"mrs-velocity": {"param": "velocity"}, "dpm-solver-single": {"variant": "singlestep", "order": 3}}
    name = {"mrs-velocity": "mrs", "dpm-solver-single": "dpm-solver"}.get(method, method)
    for steps in (1, 2, 5):
        g = torch.Generator().manual_seed(0)
        res = sample(den, process, y=y, shape=(4, D), steps=steps, method=name, generator=g, dtype=torch.float64,
                     **opts.get(method, {}))  # fmt: skip
        assert bool(torch.isfinite(res.x).all()), (steps, res.x)


def test_start_at_a_point_mass_and_adaptive_at_a_zero_raise_clearly():
    data = _gaussian()
    bridge = BrownianBridgeProcess()
    den = AnalyticDenoiser(data, bridge, y=Y).x0_eps
    with pytest.raises(ValueError, match="s\\(t\\) = 0"):
        sample(den, bridge, Y.expand(2, D).clone(), Y, steps=4, method="dpm-solver++", dtype=torch.float64)
    rddm = ResidualProcess()
    with pytest.raises(ValueError, match="a\\(t_start\\) > 0"):
        sample(AnalyticDenoiser(data, rddm, y=Y).x0_eps, rddm, y=Y, shape=(2, D), steps=4,
               method="dpm-solver-adaptive", dtype=torch.float64)  # fmt: skip
    with pytest.raises(ValueError, match="velocity"):
        sample(den, VPProcess(), torch.zeros(2, D), steps=2, method="mrs", solver="sde", param="velocity")
    with pytest.raises(ValueError, match="order"):
        sample(den, VPProcess(), torch.zeros(2, D), steps=2, method="dpm-solver++", order=4)


def test_adaptive_solver_meets_its_tolerance_and_counts_calls():
    process, data = VPProcess("linear"), _gaussian()
    calls = []
    inner = AnalyticDenoiser(data, process).x0_eps

    def den(x, t):
        calls.append(1)
        return inner(x, t)

    x, t0 = _start(data, process, None)
    t1 = process.t_min + 0.05
    exact = gaussian_pf_ode_solution(x, t0, t1, data.mean(), data.cov(), process)
    errs = []
    for rtol in (1e-2, 1e-4):
        calls.clear()
        res = sample(den, process, x, steps=1, method="dpm-solver-adaptive", rtol=rtol, atol=rtol, t_start=t0,
                     t_end=t1, dtype=torch.float64)  # fmt: skip
        assert res.nfe == len(calls)
        errs.append((res.x - exact).abs().max().item())
    assert errs[1] < 1e-3
    assert errs[1] < errs[0]


def test_thresholding_keeps_eps_consistent_with_the_clipped_x0():
    process, data = VPProcess("linear"), _mixture()
    inner = AnalyticDenoiser(data, process).x0_eps
    x = 3.0 * torch.randn(5, D, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    t = torch.full((5,), 0.3, dtype=torch.float64)
    c = process.coefficients64(t)
    for kw in ({"clip_x0": (-0.5, 0.5)}, {"dynamic_threshold": 0.5}):
        x0, eps = ThresholdedDenoiser(inner, process, **kw)(x, t)
        assert torch.allclose(c.a[:, None] * x0 + c.s[:, None] * eps, x, atol=1e-12)
        assert x0.abs().max() <= 1.0 + 1e-12
    z = torch.tensor([[3.0, -0.5, 0.2, 0.1]], dtype=torch.float64)
    assert torch.allclose(dynamic_threshold(z, 0.99), z.clamp(-2.97, 2.97) / 2.97, atol=1e-2)
    res = sample(inner, process, shape=(8, D), steps=10, method="dpm-solver++", clip_x0=(-1.0, 1.0),
                 generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert bool(torch.isfinite(res.x).all())
    assert res.x.abs().max() <= 1.0 + 4 * process.coefficients64(1e-3).s


def test_float64_state_from_float32_input_is_more_accurate_and_keeps_the_input_dtype():
    process, data = VPProcess("linear"), _gaussian()
    den = AnalyticDenoiser(data, process).x0_eps
    x, t0 = _start(data, process, None)
    ref = sample(den, process, x, steps=20, method="unipc", t_start=t0, dtype=torch.float64).x
    lo = sample(den, process, x.float(), steps=20, method="unipc", t_start=t0, dtype=torch.float32)
    hi = sample(den, process, x.float(), steps=20, method="unipc", t_start=t0, dtype=torch.float32,
                state_dtype=torch.float64)  # fmt: skip
    assert lo.x.dtype == hi.x.dtype == torch.float32
    assert (hi.x.double() - ref).abs().max() <= (lo.x.double() - ref).abs().max() + 1e-7


def test_grid_first_point_is_exactly_T_and_the_denoiser_sees_grid_times():
    process, data = MeanRevertingProcess(), _gaussian()
    inner = AnalyticDenoiser(data, process, y=Y).x0_eps
    seen = []

    def den(x, t):
        seen.append(float(t[0]))
        return inner(x, t)

    sample(den, process, y=Y, shape=(2, D), steps=7, method="dpm-solver++", order=3, dtype=torch.float64)
    grid = time_grid(process, 7)
    assert seen[0] == process.T
    assert seen == grid[:-1].tolist()


def test_sde_dpm_solver_pp_1_is_ancestral_ddim():
    process, data = MeanRevertingProcess(), _gaussian()
    den = AnalyticDenoiser(data, process, y=Y).x0_eps
    kw = {"shape": (6, D), "steps": 9, "dtype": torch.float64}
    a = sample(den, process, y=Y, method="sde-dpm-solver++", order=1, generator=torch.Generator().manual_seed(1), **kw)
    b = sample(den, process, y=Y, method="ddim", eta=1.0, generator=torch.Generator().manual_seed(1), **kw)
    assert torch.allclose(a.x, b.x, atol=1e-10)
