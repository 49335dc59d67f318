"""Losses and time samplers: exact identities between weightings, optimality, IR-SDE and Fokker-Planck residuals."""

from __future__ import annotations

import math

import pytest
import torch

from condiff.core.analytic import GaussianMixture
from condiff.core.losses import (
    DenoisingScoreMatchingLoss,
    FokkerPlanckRegularizer,
    ImportanceTimeSampler,
    IRSDEMaximumLikelihoodLoss,
    RegressionLoss,
    ResidualNoiseLoss,
    logit_normal_time,
    loss_weight,
    optimal_reverse_state,
    score_fokker_planck_residual,
    uniform_time,
)
from condiff.core.parameterization import from_x0_eps
from condiff.core.processes import MeanRevertingProcess, OUVEProcess, ResidualProcess, VEProcess, VPProcess

torch.set_num_threads(1)
F64 = torch.float64


def _batch(p, n: int = 64, d: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x0, eps, y = (torch.randn(n, d, generator=g, dtype=F64) for _ in range(3))
    t = p.t_min + (p.T - p.t_min) * (0.05 + 0.9 * torch.rand(n, generator=g, dtype=F64))
    return x0, eps, y, t, g


def test_regression_loss_is_the_mean_power_of_the_error_and_sums_heads() -> None:
    p = ResidualProcess()
    x0, eps, y, t, g = _batch(p)
    out = torch.randn(x0.shape, generator=g, dtype=F64)
    torch.testing.assert_close(RegressionLoss("l2")(p, "eps", out, x0, eps, t), (out - eps).square().mean(1))
    torch.testing.assert_close(RegressionLoss("l1")(p, "x0", out, x0, eps, t), (out - x0).abs().mean(1))
    two = (out, out + 1)
    expected = (out - (y - x0)).abs().mean(1) + (out + 1 - eps).abs().mean(1)
    torch.testing.assert_close(RegressionLoss("l1")(p, "residual_eps", two, x0, eps, t, y), expected)
    torch.testing.assert_close(ResidualNoiseLoss()(p, "residual_eps", two, x0, eps, t, y), expected)
    target = from_x0_eps("v", x0, eps, t, p, y)
    assert float(RegressionLoss()(p, "v", target, x0, eps, t, y).abs().max()) == 0.0
    with pytest.raises(ValueError, match="needs the condition y"):
        ResidualNoiseLoss()(p, "residual_eps", two, x0, eps, t)


@pytest.mark.parametrize("process", [VPProcess("cosine"), VEProcess(), OUVEProcess()], ids=["vp", "ve", "ouve"])
def test_weightings_are_the_published_objectives(process) -> None:
    """Each weighting on the x0 error equals its paper's objective in that paper's own variables."""
    x0, eps, y, t, g = _batch(process, seed=1)
    out = torch.randn(x0.shape, generator=g, dtype=F64)  # an eps prediction
    c = process.coefficients(t)
    a, s = c.a[:, None], c.s[:, None]
    x0_hat = (a * x0 + c.b[:, None] * y + s * eps - c.b[:, None] * y - s * out) / a

    def dsm(w: str, **kw) -> torch.Tensor:
        return DenoisingScoreMatchingLoss(w, **kw)(process, "eps", out, x0, eps, t, y)

    eps_mse = (out - eps).square().mean(1)
    torch.testing.assert_close(dsm("snr"), eps_mse)  # DDPM's simple loss
    torch.testing.assert_close(dsm("sigma2"), eps_mse)  # score matching with lambda = s^2
    torch.testing.assert_close(dsm("uniform"), (x0_hat - x0).square().mean(1))
    snr = (c.a / c.s) ** 2
    torch.testing.assert_close(dsm("min_snr", min_snr_gamma=5.0), snr.clamp(max=5.0) / snr * eps_mse)
    sigma = c.s / c.a  # EDM: lambda(sigma) |D(x) - x0|^2 with D = x0_hat
    lam = (sigma**2 + 0.3**2) / (sigma * 0.3) ** 2
    torch.testing.assert_close(dsm("edm", sigma_data=0.3), lam * (x0_hat - x0).square().mean(1))
    score_err = ((-out / s) - (-eps / s)).square().mean(1)  # likelihood: g^2 |score error|^2
    torch.testing.assert_close(dsm("likelihood"), process.diffusion_sq(t) * score_err)
    torch.testing.assert_close(loss_weight("snr", process, t), snr)


def test_the_exact_posterior_minimises_the_expected_denoising_loss() -> None:
    """Baseline: shifting the exact posterior mean by 0.1 must raise the expected loss."""
    p = VPProcess("cosine")
    data = GaussianMixture(torch.tensor([[-1.0, 0.0], [1.0, 0.5]]), 0.2 * torch.eye(2).expand(2, 2, 2))
    g = torch.Generator().manual_seed(2)
    x0 = data.sample(20000, g)
    t = 0.1 + 0.8 * torch.rand(20000, generator=g, dtype=F64)
    x_t, eps = p.marginal_sample(x0, t, generator=g)
    best, _, _ = data.posterior(x_t, t, p)
    loss = DenoisingScoreMatchingLoss("uniform")
    exact = loss(p, "x0", best, x0, eps, t).mean()
    shifted = loss(p, "x0", best + 0.1, x0, eps, t).mean()
    assert float(shifted - exact) == pytest.approx(0.01, rel=0.05)  # = |0.1|^2 exactly in expectation


def test_optimal_reverse_state_is_the_irsde_formula() -> None:
    """Luo et al. (2023) eq. 12 with ``A = e^{-theta dt}``, ``B = e^{-thetabar_t}``, ``C = e^{-thetabar_{t'}}``."""
    p = MeanRevertingProcess(sigma_inf=0.4, schedule="cosine")
    x0, eps, mu, t, _ = _batch(p, seed=3)
    t_prev = t - 0.01
    c = p.coefficients(t)
    x_t = c.a[:, None] * x0 + c.b[:, None] * mu + c.s[:, None] * eps
    B = torch.exp(-p.theta_bar(t))[:, None]
    C = torch.exp(-p.theta_bar(t_prev))[:, None]
    A = B / C
    ref = A * (1 - C**2) / (1 - B**2) * (x_t - mu) + C * (1 - A**2) / (1 - B**2) * (x0 - mu) + mu
    torch.testing.assert_close(optimal_reverse_state(p, x_t, x0, t, t_prev, mu), ref)


def test_irsde_loss_is_small_for_the_true_noise_and_large_for_a_zero_prediction() -> None:
    """With the true ``eps`` the Euler reverse step misses the optimum state by ``O(dt^2)``."""
    p = MeanRevertingProcess(sigma_inf=0.4, schedule="cosine")
    x0, eps, mu, t, _ = _batch(p, seed=4)
    loss = IRSDEMaximumLikelihoodLoss(dt=1e-3, norm="l2")
    good = loss(p, "eps", eps, x0, eps, t, mu).mean()
    zero = loss(p, "eps", torch.zeros_like(eps), x0, eps, t, mu).mean()
    assert float(good) < 1e-3 * float(zero)
    with pytest.raises(ValueError, match="dt"):
        IRSDEMaximumLikelihoodLoss(dt=0.0)


@pytest.mark.parametrize("process", [VPProcess("linear"), OUVEProcess()], ids=["vp", "ouve"])
def test_the_exact_score_solves_the_score_fokker_planck_equation(process) -> None:
    """Residual of the exact mixture score is at round-off level; a score with the wrong
    time dependence (the exact score at ``1.1 t``) is the named baseline and is far off."""
    data = GaussianMixture(torch.tensor([[-1.0, 0.3], [0.8, -0.5]]), 0.3 * torch.eye(2).expand(2, 2, 2))
    g = torch.Generator().manual_seed(5)
    x = 1.5 * torch.randn(32, 2, generator=g, dtype=F64)
    t = 0.1 + 0.5 * torch.rand(32, generator=g, dtype=F64)
    y = torch.tensor([0.5, -0.2], dtype=F64).expand(32, 2)

    def exact(xx: torch.Tensor, tt: torch.Tensor) -> torch.Tensor:
        return data.posterior(xx, tt, process, y)[2]

    def wrong(xx: torch.Tensor, tt: torch.Tensor) -> torch.Tensor:
        return data.posterior(xx, 1.1 * tt, process, y)[2]

    r = score_fokker_planck_residual(exact, process, x, t, y).detach()
    assert float(r.abs().max()) < 1e-8
    reg = FokkerPlanckRegularizer(weight=2.0)
    assert float(reg(wrong, process, x, t, y).detach().mean()) > 1e-3
    with pytest.raises(ValueError, match=r"\(B, D\)"):
        score_fokker_planck_residual(exact, process, x[:, None], t, y)


def test_time_samplers_cover_the_range_with_the_right_law() -> None:
    p = VPProcess(t_min=0.01, T=0.9)
    g = torch.Generator().manual_seed(6)
    n = 20000
    u = uniform_time(n, p, "cpu", g)
    assert float(u.min()) >= 0.01
    assert float(u.max()) <= 0.9
    assert abs(float(u.mean()) - 0.455) < 5 * 0.889 / math.sqrt(12 * n)
    ln = logit_normal_time(n, p, "cpu", g, mean=0.5, std=0.8).double()
    logit = torch.logit((ln - 0.01) / 0.89)
    assert abs(float(logit.mean()) - 0.5) < 5 * 0.8 / math.sqrt(n)
    assert abs(float(logit.std()) - 0.8) < 5 * 0.8 / math.sqrt(2 * n)

    sampler = ImportanceTimeSampler(p, lambda s: s**2, grid_size=4096)
    ts, w = sampler(n, generator=g)
    ts, w = ts.double(), w.double()
    exact_cdf = (torch.sort(ts).values ** 3 - 0.01**3) / (0.9**3 - 0.01**3)
    ks = float((exact_cdf - torch.arange(1, n + 1, dtype=F64) / n).abs().max())
    assert ks < 1.63 / math.sqrt(n) + 1e-3  # Kolmogorov-Smirnov at the 1% level
    # importance weights turn the sampler's expectation back into the uniform one
    assert abs(float((w * ts).mean()) - 0.455) < 0.01
    with pytest.raises(ValueError, match="density"):
        ImportanceTimeSampler(p, lambda s: -s)
    with pytest.raises(ValueError, match="std"):
        logit_normal_time(4, p, "cpu", std=0.0)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: RegressionLoss("l3"), "norm"),
        (lambda: DenoisingScoreMatchingLoss("foo"), "weighting"),
        (lambda: DenoisingScoreMatchingLoss("edm", sigma_data=0.0), "sigma_data"),
        (lambda: ResidualNoiseLoss(residual_weight=-1.0), "residual_weight"),
        (lambda: FokkerPlanckRegularizer(weight=-1.0), "weight"),
    ],
)
def test_bad_loss_arguments_raise(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()
