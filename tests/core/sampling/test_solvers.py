"""DDIM over any process, checked against the exact probability-flow solution of Gaussian data."""

from __future__ import annotations

import math

import pytest
import torch

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture, gaussian_pf_ode_solution
from condiff.core.processes import MeanRevertingProcess, VPProcess
from condiff.core.sampling import ModelDenoiser, sample, time_grid

D = 3


def _gaussian() -> GaussianMixture:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(D, D, generator=g, dtype=torch.float64)
    return GaussianMixture.gaussian(
        torch.tensor([1.0, -0.5, 0.3], dtype=torch.float64), 0.3 * a @ a.T + 0.05 * torch.eye(D, dtype=torch.float64)
    )


def _processes() -> list[tuple[str, object, torch.Tensor | None]]:
    y = torch.tensor([0.5, 1.0, -1.0], dtype=torch.float64)
    return [("vp", VPProcess("linear"), None), ("mean-reverting", MeanRevertingProcess(), y)]


@pytest.mark.parametrize(("name", "process", "y"), _processes(), ids=["vp", "mean-reverting"])
def test_ddim_converges_with_order_one_to_the_exact_pf_ode_solution(name: str, process, y) -> None:
    data = _gaussian()
    den = AnalyticDenoiser(data, process, y=None if y is None else y.expand(64, D))
    t0, t1 = 0.9 * process.T, process.t_min + 0.05
    x0 = data.sample(64, generator=torch.Generator().manual_seed(1))
    t_vec = torch.full((64,), t0, dtype=torch.float64)
    y_b = None if y is None else y.expand(64, D)
    x_start, _ = process.marginal_sample(x0, t_vec, y_b, generator=torch.Generator().manual_seed(2))
    exact = gaussian_pf_ode_solution(x_start, t0, t1, data.mean(), data.cov(), process, y)
    errors = []
    steps_list = [16, 32, 64, 128]
    for steps in steps_list:
        res = sample(
            den.x0_eps,
            process,
            x_start,
            y,
            steps=steps,
            method="ddim",
            schedule="uniform",
            t_start=t0,
            t_end=t1,
            dtype=torch.float64,
        )
        assert res.nfe == steps
        errors.append((res.x - exact).abs().max().item())
    slope = -math.log(errors[-1] / errors[0]) / math.log(steps_list[-1] / steps_list[0])
    assert abs(slope - 1.0) < 0.3, (errors, slope)
    assert errors[-1] < 0.1  # states have std ~0.9


def test_stochastic_ddim_reproduces_the_target_moments() -> None:
    process = VPProcess("linear")
    data = _gaussian()
    den = AnalyticDenoiser(data, process)
    g = torch.Generator().manual_seed(3)
    res = sample(
        den.x0_eps, process, shape=(20000, D), steps=500, method="ddim", eta=1.0, generator=g, dtype=torch.float64
    )
    mean_err = (res.x.mean(0) - data.mean()).abs().max().item()
    cov_rel = (torch.linalg.matrix_norm(torch.cov(res.x.T) - data.cov()) / torch.linalg.matrix_norm(data.cov())).item()
    # Monte-Carlo standard error of the mean ~ sqrt(2 / 20000) ~ 0.01, of the covariance ~ 1-2 %.
    assert mean_err < 0.04
    assert cov_rel < 0.05
    # The deterministic sampler from the same prior draws must agree in distribution too.
    ode = sample(
        den.x0_eps,
        process,
        shape=(20000, D),
        steps=100,
        method="ddim",
        generator=torch.Generator().manual_seed(3),
        dtype=torch.float64,
    )
    assert (ode.x.mean(0) - data.mean()).abs().max().item() < 0.04


def test_time_grid_ends_and_logsnr_spacing() -> None:
    process = VPProcess("linear")
    grid = time_grid(process, 10, "logsnr")
    assert grid[0].item() == process.T
    assert grid[-1].item() == process.t_min
    assert bool((grid[1:] < grid[:-1]).all())
    lam = process.log_snr(grid)
    steps = lam[1:] - lam[:-1]
    assert torch.allclose(steps, steps.mean().expand_as(steps), rtol=1e-9)
    with pytest.raises(ValueError, match="steps"):
        time_grid(process, 0)
    with pytest.raises(ValueError, match="schedule"):
        time_grid(process, 5, "nope")


def test_guidance_combines_conditional_and_unconditional_outputs() -> None:
    class Net(torch.nn.Module):
        def forward(self, x, t, labels=None, cond_drop=None):
            out = torch.full_like(x, 1.0) * labels.view(-1, 1).to(x.dtype)
            if cond_drop is not None:
                out = torch.where(cond_drop.view(-1, 1), torch.full_like(x, -2.0), out)
            return out

    process = VPProcess("linear")
    x = torch.zeros(2, 3)
    t = torch.full((2,), 0.5)
    den = ModelDenoiser(Net(), process, "eps", cond={"labels": torch.tensor([1, 3])}, guidance=2.5)
    _, eps = den(x, t)
    expected = -2.0 + 2.5 * (torch.tensor([1.0, 3.0]) + 2.0)  # out_u + w (out_c - out_u)
    assert torch.allclose(eps, expected.view(-1, 1).expand(2, 3))


def test_unknown_method_and_missing_shape_raise() -> None:
    process = VPProcess("linear")
    with pytest.raises(ValueError, match="unknown method"):
        sample(lambda x, t: (x, x), process, torch.zeros(1, 2), steps=2, method="nope")
    with pytest.raises(ValueError, match="shape"):
        sample(lambda x, t: (x, x), process, steps=2)


def test_sample_guidance_argument_overrides_the_denoiser_scale() -> None:
    class Net(torch.nn.Module):
        def forward(self, x, t, labels=None, cond_drop=None):
            out = torch.ones_like(x)
            if cond_drop is not None:
                out = torch.where(cond_drop.view(-1, 1), torch.zeros_like(x), out)
            return out

    process = VPProcess("linear")
    den = ModelDenoiser(Net(), process, "x0", cond={"labels": torch.tensor([1, 2])})
    x = torch.zeros(2, 3)
    plain = sample(den, process, x, steps=1, method="ddim", t_start=0.5).x
    guided = sample(den, process, x, steps=1, method="ddim", t_start=0.5, guidance=3.0).x
    # x0_hat = 0 + 3 (1 - 0) = 3 with guidance, 1 without; one DDIM step to t_min lands near a(t_min) x0_hat.
    assert torch.allclose(guided, 3 * plain, rtol=1e-4)
    assert den.guidance == 1.0  # the caller's denoiser is not modified
    with pytest.raises(ValueError, match="ModelDenoiser"):
        sample(lambda x, t: (x, x), process, x, steps=1, guidance=2.0)


def test_posterior_sampler_is_the_irsde_optimal_reverse_state_plus_posterior_noise() -> None:
    from condiff.core.losses import optimal_reverse_state
    from condiff.core.processes import MeanRevertingProcess

    process = MeanRevertingProcess()
    g = torch.Generator().manual_seed(0)
    x, x0_hat, y = (torch.randn(5, 3, generator=g, dtype=torch.float64) for _ in range(3))
    t, t_next = 0.6, 0.4

    def den(xx, tt):
        return x0_hat, process.eps_from_x0(xx, tt, x0_hat, y)

    res = sample(den, process, x, y, steps=1, method="posterior", schedule=[t, t_next],
                 generator=torch.Generator().manual_seed(7), dtype=torch.float64)  # fmt: skip
    tt, tn = torch.full((5,), t, dtype=torch.float64), torch.full((5,), t_next, dtype=torch.float64)
    mean = optimal_reverse_state(process, x, x0_hat, tt, tn, y)
    c, n = process.coefficients64(torch.tensor(t)), process.coefficients64(torch.tensor(t_next))
    var = n.s**2 * (1 - (c.a * n.s / (n.a * c.s)) ** 2)
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    assert res.nfe == 1
    torch.testing.assert_close(res.x, mean + var.sqrt() * z)
