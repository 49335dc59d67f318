"""SDE and EDM samplers against exact targets: moments, PF-ODE order, NFE, tuple states, per-sample seeds."""

from __future__ import annotations

import math

import pytest
import torch

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture, gaussian_pf_ode_solution
from condiff.core.processes import MeanRevertingProcess, ProductProcess, StochasticInterpolant, VEProcess, VPProcess
from condiff.core.sampling import sample
from condiff.core.sampling.noise import per_sample_generators
from condiff.core.sampling.stochastic import edm_heun, s4

torch.set_num_threads(1)

D = 2
N = 8000
Y = torch.tensor([0.5, -1.0], dtype=torch.float64)


def _gaussian() -> GaussianMixture:
    return GaussianMixture.gaussian(
        torch.tensor([1.0, -0.5], dtype=torch.float64), torch.tensor([[0.5, 0.2], [0.2, 0.3]], dtype=torch.float64)
    )


def _mixture() -> GaussianMixture:
    return GaussianMixture(
        torch.tensor([[-1.0, 0.5], [1.2, -0.3]], dtype=torch.float64),
        torch.tensor([[[0.10, 0.03], [0.03, 0.05]], [[0.08, -0.02], [-0.02, 0.12]]], dtype=torch.float64),
        torch.tensor([0.4, 0.6], dtype=torch.float64),
    )


def _start(data: GaussianMixture, process, y, t0: float, n: int = N, seed: int = 1) -> torch.Tensor:
    """Exact draws of ``x_t0`` (data pushed through the path), so any bias is the sampler's."""
    x0 = data.sample(n, generator=torch.Generator().manual_seed(seed))
    yb = None if y is None else y.expand(n, D)
    t = torch.full((n,), t0, dtype=torch.float64)
    return process.marginal_sample(x0, t, yb, generator=torch.Generator().manual_seed(seed + 1))[0]


def _check_moments(x: torch.Tensor, data: GaussianMixture, process, t_end: float, y) -> None:
    mean, cov = data.marginal_moments(process, t_end, y)
    se = (cov.diagonal() / x.shape[0]).sqrt()
    # mean within 4.5 Monte-Carlo standard errors; covariance within 4 standard errors (sqrt(2/N) relative)
    # plus 2 % for the discretisation bias of 200 steps.
    assert bool(((x.mean(0) - mean).abs() < 4.5 * se).all()), (x.mean(0), mean)
    cov_err = ((torch.cov(x.T) - cov).abs().max() / cov.abs().max()).item()
    assert cov_err < 4 * math.sqrt(2 / x.shape[0]) + 0.02, cov_err


SDE_METHODS = [
    ("euler-maruyama", {}, 200),
    ("euler-maruyama", {"diffusion_scale": 0.5}, 200),
    ("pc", {"snr": 0.16}, 100),
    ("pc", {"snr": 0.16, "corrector": "langevin"}, 100),
    ("s4", {"snr": 0.1}, 200),
    ("heun", {"s_churn": 10.0}, 60),
]


@pytest.mark.parametrize(("method", "options", "steps"), SDE_METHODS, ids=[f"{m}-{o}" for m, o, _ in SDE_METHODS])
@pytest.mark.parametrize("target", ["gaussian", "mixture"])
@pytest.mark.parametrize("proc", ["vp", "mean-reverting"])
def test_sde_samplers_reproduce_the_target_moments(method: str, options: dict, steps: int, target: str, proc: str):
    data = _gaussian() if target == "gaussian" else _mixture()
    process = VPProcess("linear") if proc == "vp" else MeanRevertingProcess(sigma_inf=0.5)
    y = None if proc == "vp" else Y
    den = AnalyticDenoiser(data, process, y=None if y is None else y.expand(N, D))
    x_T = _start(data, process, y, process.T)
    g = torch.Generator().manual_seed(3)
    res = sample(
        den.x0_eps,
        process,
        x_T,
        y,
        steps=steps,
        method=method,
        schedule="uniform",
        generator=g,
        dtype=torch.float64,
        **options,
    )
    _check_moments(res.x, data, process, process.t_min, y)
    if target == "mixture":  # the mass of each mode, against exact draws at t_min (binomial error ~0.55 %)
        ref = _start(data, process, y, process.t_min, seed=11)
        side = lambda v: (v[:, 0] > 0.1).double().mean().item()  # noqa: E731
        assert abs(side(res.x) - side(ref)) < 0.03


@pytest.mark.parametrize("proc", ["vp", "mean-reverting"])
def test_euler_has_order_one_and_heun_order_two_against_the_exact_pf_ode(proc: str) -> None:
    data = GaussianMixture.gaussian(
        torch.tensor([1.0, -0.5], dtype=torch.float64), torch.tensor([[0.5, 0.2], [0.2, 0.3]])
    )
    process = VPProcess("linear") if proc == "vp" else MeanRevertingProcess()
    y = None if proc == "vp" else Y
    den = AnalyticDenoiser(data, process, y=None if y is None else y.expand(64, D))
    t0, t1 = 0.9 * process.T, process.t_min + 0.05
    x = _start(data, process, y, t0, n=64)
    exact = gaussian_pf_ode_solution(x, t0, t1, data.mean(), data.cov(), process, y)
    steps_list = [8, 16, 32, 64]
    for method, order in (("euler", 1), ("heun", 2)):
        errors = []
        for steps in steps_list:
            res = sample(
                den.x0_eps,
                process,
                x,
                y,
                steps=steps,
                method=method,
                schedule="logsnr",
                t_start=t0,
                t_end=t1,
                dtype=torch.float64,
            )
            assert res.nfe == (steps if order == 1 else 2 * steps - 1)
            errors.append((res.x - exact).abs().max().item())
        slope = -math.log(errors[-1] / errors[0]) / math.log(steps_list[-1] / steps_list[0])
        assert abs(slope - order) < 0.3, (method, errors, slope)
    # Without churn, Euler in ((x - b y)/a, s/a) is DDIM, for every process.
    euler = sample(den.x0_eps, process, x, y, steps=7, method="euler", t_start=t0, t_end=t1, dtype=torch.float64)
    ddim = sample(den.x0_eps, process, x, y, steps=7, method="ddim", t_start=t0, t_end=t1, dtype=torch.float64)
    torch.testing.assert_close(euler.x, ddim.x, rtol=1e-12, atol=1e-12)


def test_euler_maruyama_without_noise_is_a_first_order_pf_ode_solver() -> None:
    data, process = _gaussian(), VPProcess("linear")
    den = AnalyticDenoiser(data, process)
    t0, t1 = 0.9, 0.05
    x = _start(data, process, None, t0, n=64)
    exact = gaussian_pf_ode_solution(x, t0, t1, data.mean(), data.cov(), process)
    errors = [
        (
            sample(
                den.x0_eps,
                process,
                x,
                steps=n,
                method="euler-maruyama",
                diffusion_scale=0.0,
                t_start=t0,
                t_end=t1,
                dtype=torch.float64,
            ).x
            - exact
        )
        .abs()
        .max()
        .item()
        for n in (16, 64)
    ]
    assert abs(math.log(errors[0] / errors[1]) / math.log(4) - 1.0) < 0.3, errors


def _counting(fn):
    calls = [0]

    def den(x, t):
        calls[0] += 1
        return fn(x, t)

    return den, calls


@pytest.mark.parametrize(
    ("method", "options", "expected"),
    [
        ("euler-maruyama", {}, 7),
        ("euler-maruyama", {"denoise_final": True}, 8),
        ("pc", {"corrector_steps": 2}, 21),
        ("pc", {"corrector_steps": 0, "denoise_final": True}, 8),
        ("s4", {}, 7),
        ("euler", {}, 7),
        ("heun", {}, 13),
        ("heun", {"s_churn": 5.0}, 13),
        ("interpolant-ode", {"order": 1}, 7),
        ("interpolant-ode", {}, 13),
        ("interpolant-sde", {"epsilon": 0.5}, 7),
    ],
)
def test_reported_nfe_equals_the_denoiser_calls(method: str, options: dict, expected: int) -> None:
    interp = method.startswith("interpolant")
    process = StochasticInterpolant(T=0.95) if interp else VPProcess("linear")
    data = _gaussian()
    den, calls = _counting(AnalyticDenoiser(data, process, y=Y.expand(16, D) if interp else None).x0_eps)
    x = _start(data, process, Y if interp else None, process.T, n=16)
    res = sample(
        den,
        process,
        x,
        Y if interp else None,
        steps=7,
        method=method,
        generator=torch.Generator().manual_seed(0),
        dtype=torch.float64,
        **options,
    )
    assert res.nfe == calls[0] == expected
    assert bool(torch.isfinite(res.x).all())


def test_s4_on_a_tuple_state_reproduces_both_marginals() -> None:
    data_x = _gaussian()
    data_a = GaussianMixture.gaussian(
        torch.tensor([0.0, 2.0, -1.0], dtype=torch.float64), torch.diag(torch.tensor([0.2, 0.05, 0.4]))
    )
    process = ProductProcess([VPProcess("linear"), VEProcess(sigma_min=0.01, sigma_max=5.0, t_min=1e-3)])
    px, pa = process.processes
    den_x, den_a = AnalyticDenoiser(data_x, px), AnalyticDenoiser(data_a, pa)

    def denoiser(state, t):
        (x0x, ex), (x0a, ea) = den_x.x0_eps(state[0], t), den_a.x0_eps(state[1], t)
        return (x0x, x0a), (ex, ea)

    denoiser_c, calls = _counting(denoiser)
    state = (_start(data_x, px, None, process.T, n=6000), _start(data_a, pa, None, process.T, n=6000, seed=5))
    grid = torch.linspace(process.T, process.t_min, 201, dtype=torch.float64)
    res = s4(denoiser_c, process, state, grid, snr=0.1, generator=torch.Generator().manual_seed(4))
    assert res.nfe == calls[0] == 200
    assert isinstance(res.x, tuple)
    assert len(res.x) == 2
    _check_moments(res.x[0], data_x, px, process.t_min, None)
    mean_a, cov_a = data_a.marginal_moments(pa, process.t_min)
    se = (cov_a.diagonal() / 6000).sqrt()
    assert bool(((res.x[1].mean(0) - mean_a).abs() < 4.5 * se).all())
    assert ((torch.cov(res.x[1].T) - cov_a).abs().max() / cov_a.abs().max()).item() < 4 * math.sqrt(2 / 6000) + 0.02


@pytest.mark.parametrize("options", [{"epsilon": 1.0}, {}, {"epsilon": 0.0}], ids=["eps=1", "process-level", "ode"])
def test_interpolant_sde_reproduces_the_marginal_with_y(options: dict) -> None:
    process = StochasticInterpolant(epsilon=lambda t: 0.5 + t)
    data = _mixture()
    t0, t1 = 0.95, 0.05
    den = AnalyticDenoiser(data, process, y=Y.expand(N, D))
    x = _start(data, process, Y, t0)
    res = sample(
        den.x0_eps,
        process,
        x,
        Y,
        steps=300,
        method="interpolant-sde",
        t_start=t0,
        t_end=t1,
        schedule="uniform",
        generator=torch.Generator().manual_seed(7),
        dtype=torch.float64,
        **options,
    )
    _check_moments(res.x, data, process, t1, Y)


def test_interpolant_ode_has_order_two() -> None:
    process = StochasticInterpolant(path="trig")
    data = _gaussian()
    den = AnalyticDenoiser(data, process, y=Y.expand(32, D))
    t0, t1 = 0.9, 0.1
    x = _start(data, process, Y, t0, n=32)
    exact = gaussian_pf_ode_solution(x, t0, t1, data.mean(), data.cov(), process, Y)
    err = [
        (
            sample(
                den.x0_eps,
                process,
                x,
                Y,
                steps=n,
                method="interpolant-ode",
                t_start=t0,
                t_end=t1,
                schedule="uniform",
                dtype=torch.float64,
            ).x
            - exact
        )
        .abs()
        .max()
        .item()
        for n in (8, 32)
    ]
    assert abs(math.log(err[0] / err[1]) / math.log(4) - 2.0) < 0.3, err


@pytest.mark.parametrize("method", ["euler-maruyama", "pc", "heun", "interpolant-sde"])
def test_the_same_per_sample_seed_gives_the_same_sample_whatever_the_batch(method: str) -> None:
    process = VPProcess("linear")
    data = _gaussian()
    den = AnalyticDenoiser(data, process).x0_eps
    x = _start(data, process, None, process.T, n=5)
    options = {"s_churn": 5.0} if method == "heun" else ({"epsilon": 0.3} if method == "interpolant-sde" else {})
    seeds = [10, 11, 12, 13, 14]
    full = sample(
        den, process, x, steps=6, method=method, generator=per_sample_generators(seeds), dtype=torch.float64, **options
    )
    part = sample(
        den,
        process,
        x[2:4],
        steps=6,
        method=method,
        generator=per_sample_generators(seeds[2:4]),
        dtype=torch.float64,
        **options,
    )
    torch.testing.assert_close(full.x[2:4], part.x, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", ["euler-maruyama", "pc", "s4", "euler", "heun"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_no_nan_in_low_precision_state(method: str, dtype: torch.dtype) -> None:
    process = VPProcess("linear")
    den = AnalyticDenoiser(_gaussian(), process).x0_eps
    for steps in (1, 2, 10):
        res = sample(
            den,
            process,
            shape=(8, D),
            steps=steps,
            method=method,
            dtype=dtype,
            generator=torch.Generator().manual_seed(0),
        )
        assert res.x.dtype == dtype
        assert bool(torch.isfinite(res.x.float()).all())


def test_invalid_options_and_states_raise() -> None:
    process = VPProcess("linear")
    den = AnalyticDenoiser(_gaussian(), process).x0_eps
    x = torch.zeros(2, D)
    with pytest.raises(ValueError, match="diffusion_scale"):
        sample(den, process, x, steps=2, method="euler-maruyama", diffusion_scale=-1.0)
    with pytest.raises(ValueError, match="corrector"):
        sample(den, process, x, steps=2, method="pc", corrector="nope")
    grid = torch.linspace(1.0, 0.1, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="tuple"):
        edm_heun(den, ProductProcess([process, process]), (x, x), grid)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="components"):
        s4(den, ProductProcess([process, process]), (x,), grid)
    with pytest.raises(ValueError, match="diffusion_level"):
        sample(den, process, x, steps=2, method="interpolant-sde")
