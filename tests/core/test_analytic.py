"""Analytic targets: posterior against quadrature and autograd, and the closed-form Gaussian PF-ODE against RK4."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import MultivariateNormal

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture, gaussian_pf_ode_solution
from condiff.core.parameterization import from_x0_eps
from condiff.core.processes import (
    BrownianBridgeProcess,
    CondOTProcess,
    OUVEProcess,
    ResidualProcess,
    VEProcess,
    VPProcess,
)

torch.set_num_threads(1)
F64 = torch.float64

PROCESSES = {
    "vp": VPProcess("linear"),
    "ve": VEProcess(sigma_min=0.01, sigma_max=10.0),
    "ouve": OUVEProcess(),
    "bridge": BrownianBridgeProcess(),
    "rddm": ResidualProcess(sum_scale=0.5),
    "cond-ot": CondOTProcess(),
}


def _mixture() -> GaussianMixture:
    a = torch.tensor([[1.0, 0.4, 0.0], [0.4, 0.6, 0.1], [0.0, 0.1, 0.3]], dtype=F64)
    singular = torch.outer(torch.tensor([1.0, -1.0, 0.5], dtype=F64), torch.tensor([1.0, -1.0, 0.5], dtype=F64))
    return GaussianMixture(
        torch.tensor([[0.5, -1.0, 0.2], [-0.7, 0.8, 1.0]], dtype=F64),
        torch.stack([a, 0.3 * singular]),
        torch.tensor([0.3, 0.7]),
    )


def _points(p, n: int = 16, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = 1.5 * torch.randn(n, 3, generator=g, dtype=F64)
    t = p.t_min + (p.T - p.t_min) * (0.05 + 0.85 * torch.rand(n, generator=g, dtype=F64))
    y = torch.tensor([0.3, -0.6, 0.9], dtype=F64)
    return x, t, y


@pytest.mark.parametrize("name", list(PROCESSES))
def test_score_is_the_gradient_of_the_marginal_log_density(name: str) -> None:
    """``score`` against autograd of ``log sum_k w_k N(x; a mu_k + b y, a^2 Sigma_k + s^2 I)`` (torch.distributions)."""
    p, data = PROCESSES[name], _mixture()
    x, t, y = _points(p)
    c = p.coefficients(t)
    xg = x.clone().requires_grad_(True)
    logps = []
    for k in range(2):
        mean = c.a[:, None] * data.means[k] + c.b[:, None] * y
        cov = c.a[:, None, None] ** 2 * data.covs[k] + c.s[:, None, None] ** 2 * torch.eye(3, dtype=F64)
        logps.append(MultivariateNormal(mean, cov).log_prob(xg) + math.log(data.weights[k]))
    (ref,) = torch.autograd.grad(torch.logsumexp(torch.stack(logps), 0).sum(), xg)
    x0_hat, eps_hat, score = data.posterior(x, t, p, y)
    torch.testing.assert_close(score, ref, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(eps_hat, -c.s[:, None] * score)
    # Tweedie: x = a x0_hat + b y + s eps_hat
    torch.testing.assert_close(c.a[:, None] * x0_hat + c.b[:, None] * y + c.s[:, None] * eps_hat, x)


def test_posterior_mean_matches_quadrature_in_one_dimension() -> None:
    """``E[x0 | x_t]`` by trapezoidal quadrature of ``p(x0) p(x_t | x0)`` on a fine grid."""
    data = GaussianMixture(torch.tensor([[-1.0], [1.5]]), torch.tensor([[[0.2]], [[0.5]]]), torch.tensor([0.6, 0.4]))
    p = OUVEProcess()
    y = torch.tensor([0.7], dtype=F64)
    grid = torch.linspace(-8, 8, 40001, dtype=F64)
    prior = sum(
        w * torch.exp(-0.5 * (grid - m) ** 2 / v) / math.sqrt(2 * math.pi * v)
        for w, m, v in zip(data.weights, data.means[:, 0], data.covs[:, 0, 0], strict=True)
    )
    for xv, tv in ((0.3, 0.2), (-1.2, 0.6), (2.0, 0.95)):
        t = torch.tensor(tv, dtype=F64)
        c = p.coefficients(t)
        like = torch.exp(-0.5 * (xv - c.a * grid - c.b * y) ** 2 / c.s**2)
        ref = torch.trapezoid(grid * prior * like, grid) / torch.trapezoid(prior * like, grid)
        got = data.posterior(torch.tensor([[xv]], dtype=F64), t, p, y)[0]
        assert abs(float(got) - float(ref)) < 1e-8


@pytest.mark.parametrize("singular", [False, True])
@pytest.mark.parametrize("name", list(PROCESSES))
def test_closed_form_pf_ode_matches_rk4(name: str, singular: bool) -> None:
    """Wang & Vastola's eigenbasis solution against RK4 (2000 steps) on the exact PF-ODE velocity."""
    p = PROCESSES[name]
    mean = torch.tensor([0.5, -1.0, 0.2], dtype=F64)
    cov = _mixture().covs[1 if singular else 0]
    data = GaussianMixture.gaussian(mean, cov)
    g = torch.Generator().manual_seed(1)
    y = torch.tensor([0.3, -0.6, 0.9], dtype=F64)
    t1, t0 = p.t_min + 0.9 * (p.T - p.t_min), p.t_min + 0.05 * (p.T - p.t_min)
    x_start, _ = p.marginal_sample(data.sample(8, g), torch.full((8,), t1, dtype=F64), y, generator=g)

    def velocity(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x0_hat, eps_hat, _ = data.posterior(x, t, p, y)
        return p.ode_velocity(t, x0_hat, eps_hat, y)

    x, ts = x_start.clone(), torch.linspace(t1, t0, 2001, dtype=F64)
    for i in range(2000):
        t, h = ts[i], ts[i + 1] - ts[i]
        k1 = velocity(x, t)
        k2 = velocity(x + h / 2 * k1, t + h / 2)
        k3 = velocity(x + h / 2 * k2, t + h / 2)
        k4 = velocity(x + h * k3, t + h)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    exact = gaussian_pf_ode_solution(x_start, t1, t0, mean, cov, p, y)
    torch.testing.assert_close(exact, x, rtol=1e-7, atol=1e-7)
    # the map is affine and carries the marginal covariance at t1 exactly onto that at t0
    m1, c1 = data.marginal_moments(p, t1, y)
    m0, c0 = data.marginal_moments(p, t0, y)
    basis = torch.eye(3, dtype=F64)
    jac = gaussian_pf_ode_solution(m1 + basis, t1, t0, mean, cov, p, y) - gaussian_pf_ode_solution(
        m1[None], t1, t0, mean, cov, p, y
    )
    torch.testing.assert_close(jac.T @ c1 @ jac, c0, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(gaussian_pf_ode_solution(m1[None], t1, t0, mean, cov, p, y)[0], m0)


def test_analytic_denoiser_outputs_every_parameterization() -> None:
    p, data = PROCESSES["rddm"], _mixture()
    x, t, y = _points(p, seed=2)
    x0_hat, eps_hat, score = data.posterior(x, t, p, y)
    torch.testing.assert_close(AnalyticDenoiser(data, p, "eps", y=y)(x, t), eps_hat)
    torch.testing.assert_close(AnalyticDenoiser(data, p, "x0")(x, t, y), x0_hat)
    torch.testing.assert_close(AnalyticDenoiser(data, p, "score", y=y)(x, t), score)
    torch.testing.assert_close(AnalyticDenoiser(data, p, "v", y=y)(x, t), from_x0_eps("v", x0_hat, eps_hat, t, p, y))
    got = AnalyticDenoiser(data, p, "eps", y=y).x0_eps(x, t)
    torch.testing.assert_close(got[0], x0_hat)
    assert AnalyticDenoiser(data, p, "eps", y=y)(x.float(), t.float()).dtype == torch.float32


def test_mixture_moments_and_samples_agree() -> None:
    data = _mixture()
    s = data.sample(40000, torch.Generator().manual_seed(3))
    se = torch.sqrt(torch.diagonal(data.cov()) / 40000)
    assert bool(((s.mean(0) - data.mean()).abs() < 5 * se).all())
    assert bool(((torch.cov(s.T) - data.cov()).abs() < 0.05).all())


def test_bad_mixture_arguments_raise() -> None:
    with pytest.raises(ValueError, match="positive semi-definite"):
        GaussianMixture.gaussian(torch.zeros(2), torch.tensor([[1.0, 0.0], [0.0, -1.0]]))
    with pytest.raises(ValueError, match="symmetric"):
        GaussianMixture.gaussian(torch.zeros(2), torch.tensor([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"covs must be \(K, D, D\)"):
        GaussianMixture(torch.zeros(2, 3), torch.eye(2).expand(2, 2, 2))
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture(torch.zeros(2, 2), torch.eye(2).expand(2, 2, 2), torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"x must be \(B, 3\)"):
        _mixture().posterior(torch.zeros(4, 2, dtype=F64), torch.tensor(0.5), VPProcess())
