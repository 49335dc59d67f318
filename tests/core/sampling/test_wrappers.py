"""The Time-Shift wrapper: identity without shifts, its selection rule, and consistency on an exact model."""

from __future__ import annotations

import pytest
import torch

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture, gaussian_pf_ode_solution
from condiff.core.processes import MeanRevertingProcess, VPProcess
from condiff.core.sampling import sample
from condiff.core.sampling.wrappers import _shifted_times

torch.set_num_threads(1)

D = 64
V = 0.25  # per-element data variance
Y = torch.linspace(-1.0, 1.0, D, dtype=torch.float64)


def _setup(proc: str, n: int = 32):
    data = GaussianMixture.gaussian(torch.full((D,), 0.3, dtype=torch.float64), V * torch.eye(D, dtype=torch.float64))
    process = VPProcess("linear") if proc == "vp" else MeanRevertingProcess(sigma_inf=1.0)
    y = None if proc == "vp" else Y
    den = AnalyticDenoiser(data, process, y=None if y is None else y.expand(n, D))
    x0 = data.sample(n, generator=torch.Generator().manual_seed(1))
    t = torch.full((n,), process.T, dtype=torch.float64)
    x_T, _ = process.marginal_sample(
        x0, t, None if y is None else y.expand(n, D), generator=torch.Generator().manual_seed(2)
    )
    return data, process, y, den, x_T


BASES = [
    ("ddim", {}),
    ("ddim", {"eta": 1.0}),
    ("heun", {}),
    ("dpm-solver++-ghvb", {"order": 3, "momentum": 0.7}),
    ("euler-maruyama", {}),
]


@pytest.mark.parametrize(("base", "options"), BASES, ids=[f"{b}-{o}" for b, o in BASES])
@pytest.mark.parametrize("proc", ["vp", "mean-reverting"])
def test_without_a_shift_the_wrapper_is_its_base_method_exactly(base: str, options: dict, proc: str) -> None:
    _, process, y, den, x_T = _setup(proc)

    def run(method: str, **extra) -> torch.Tensor:
        res = sample(
            den.x0_eps,
            process,
            x_T,
            y,
            steps=8,
            method=method,
            generator=torch.Generator().manual_seed(5),
            dtype=torch.float64,
            **options,
            **extra,
        )
        return res.x

    ref = run(base)
    assert torch.equal(run("time-shift", base_method=base, window=0, cutoff=0.0), ref)
    # a window but no grid time above the cutoff: again one call of the base method
    assert torch.equal(run("time-shift", base_method=base, window=20, cutoff=process.T), ref)


def test_the_rule_picks_the_time_whose_noise_variance_matches_the_state() -> None:
    process = VPProcess("linear")
    t_star = 0.60
    s_star = float(process.coefficients64(torch.tensor(t_star, dtype=torch.float64)).s)
    z = torch.randn(4, D, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    z = (z - z.mean(1, keepdim=True)) / z.std(1, keepdim=True)  # per-sample variance exactly 1
    x = s_star * z
    delta = (process.T - process.t_min) / 1000
    starts = _shifted_times(process, x, None, t_star + 3 * delta, 0.5, window=10, data_var=0.0, train_steps=1000)
    torch.testing.assert_close(starts, torch.full((4,), t_star, dtype=torch.float64))
    # the window bounds the shift: from t = 0.62 the nearest candidate is 0.62 - 5 delta
    starts = _shifted_times(process, x, None, 0.62, 0.5, window=10, data_var=0.0, train_steps=1000)
    torch.testing.assert_close(starts, torch.full((4,), 0.62 - 5 * delta, dtype=torch.float64))
    # and the data variance term moves the target to a^2 V + s^2
    a_star = float(process.coefficients64(torch.tensor(t_star, dtype=torch.float64)).a)
    x = (s_star**2 + a_star**2 * V) ** 0.5 * z
    starts = _shifted_times(process, x, None, t_star - 2 * delta, 0.5, window=10, data_var=V, train_steps=1000)
    torch.testing.assert_close(starts, torch.full((4,), t_star, dtype=torch.float64))


@pytest.mark.parametrize("base", ["ddim", "heun", "dpm-solver++-ghvb"])
@pytest.mark.parametrize("proc", ["vp", "mean-reverting"])
def test_shifted_sampling_stays_consistent_on_an_exact_model(base: str, proc: str) -> None:
    data, process, y, den, x_T = _setup(proc)
    exact = gaussian_pf_ode_solution(x_T, process.T, process.t_min, data.mean(), data.cov(), process, y)
    mean, cov = data.marginal_moments(process, process.t_min, y)

    def stats(x: torch.Tensor) -> tuple[float, float]:
        return (x - mean).mean().item(), ((x - mean) ** 2).mean().item() - cov.diagonal().mean().item()

    for steps in (10, 40):
        calls = [0]

        def counting(x, t, calls=calls):
            calls[0] += 1
            return den.x0_eps(x, t)

        base_x = sample(den.x0_eps, process, x_T, y, steps=steps, method=base, dtype=torch.float64).x
        base_err = base_x - exact
        res = sample(
            counting,
            process,
            x_T,
            y,
            steps=steps,
            method="time-shift",
            base_method=base,
            window=10,
            cutoff=0.3 * process.T,
            data_var=V,
            dtype=torch.float64,
        )
        assert res.nfe == calls[0]
        err = (res.x - exact).abs().max().item()
        # each shift moves the state by at most window/2 training steps along the exact flow: bounded, no blow-up
        assert bool(torch.isfinite(res.x).all())
        assert err < base_err.abs().max().item() + 0.2, (steps, err)
        # the sample statistics (bias of the mean, excess variance) stay as close to the target as the base's
        (m_ts, v_ts), (m_base, v_base) = stats(res.x), stats(base_x)
        assert abs(m_ts) < abs(m_base) + 0.03, (m_ts, m_base)
        assert abs(v_ts) < abs(v_base) + 0.05, (v_ts, v_base)


def test_callback_and_trajectory_cover_every_grid_step() -> None:
    _, process, y, den, x_T = _setup("vp", n=8)
    seen: list[int] = []
    res = sample(
        den.x0_eps,
        process,
        x_T,
        y,
        steps=10,
        method="time-shift",
        base_method="ddim",
        window=10,
        cutoff=0.3,
        callback=lambda i, x, x0: seen.append(i),
        return_trajectory=True,
        dtype=torch.float64,
    )
    assert seen == list(range(10))
    assert len(res.trajectory) == 11
    assert torch.equal(res.trajectory[-1], res.x)


def test_invalid_base_methods_raise() -> None:
    _, process, _, den, x_T = _setup("vp", n=4)
    with pytest.raises(ValueError, match="base_method"):
        sample(den.x0_eps, process, x_T, steps=3, method="time-shift", base_method="time-shift")
    with pytest.raises(ValueError, match="base_method"):
        sample(den.x0_eps, process, x_T, steps=3, method="time-shift", base_method="nope")
    with pytest.raises(ValueError, match="window"):
        sample(den.x0_eps, process, x_T, steps=3, method="time-shift", window=-1)
