"""DPS, data consistency and RED-Diff against the closed-form posterior of a Gaussian prior.

Prior ``x0 ~ N(m, C)`` in ``R^4`` under a VP path (exact analytic denoiser), measurement
``y = A x0 + n``, ``n ~ N(0, sigma^2 I)``: the posterior is ``N(P (C^-1 m + A^T y / sigma^2), P)``
with ``P = (C^-1 + A^T A / sigma^2)^-1``. Tolerances are stated next to each check; the
measured values at the time of writing are in the comments.
"""

from __future__ import annotations

import pytest
import torch

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture
from condiff.core.inverse import DPS, DataConsistency, Mask, MatrixOperator, red_diff
from condiff.core.processes import VPProcess
from condiff.core.sampling import sample

D, SIGMA, N = 4, 0.2, 2000
PROCESS = VPProcess("linear")
G = torch.Generator().manual_seed(0)
MEAN = torch.tensor([0.5, -0.3, 0.2, 0.0], dtype=torch.float64)
ROWS = torch.linalg.qr(torch.randn(D, D, generator=G, dtype=torch.float64))[0][:2]  # A A^T = I
X_TRUE = torch.tensor([1.0, 0.5, -0.5, 0.3], dtype=torch.float64)
_B = torch.randn(D, D, generator=G, dtype=torch.float64)
PRIORS = {"isotropic": 0.8 * torch.eye(D, dtype=torch.float64), "correlated": 0.3 * _B @ _B.T + 0.1 * torch.eye(D)}


def posterior(cov: torch.Tensor, a: torch.Tensor, y: torch.Tensor, sigma: float) -> tuple[torch.Tensor, torch.Tensor]:
    p = torch.linalg.inv(torch.linalg.inv(cov) + a.T @ a / sigma**2)
    return p @ (torch.linalg.solve(cov, MEAN) + a.T @ y / sigma**2), p


def denoiser(cov: torch.Tensor):
    return AnalyticDenoiser(GaussianMixture.gaussian(MEAN, cov), PROCESS).x0_eps


@pytest.mark.parametrize("method", ["unipc", "euler-maruyama"])
def test_dps_with_the_exact_variance_samples_the_posterior(method: str) -> None:
    """Isotropic prior, ``A A^T = I``: DPS with the PiGDM variance ``r_t^2`` is exact (dps.py docstring)."""
    cov = PRIORS["isotropic"]
    y = ROWS @ X_TRUE
    mean, post = posterior(cov, ROWS, y, SIGMA)
    guided = DPS(denoiser(cov), PROCESS, MatrixOperator(ROWS), y.expand(N, 2), sigma=SIGMA, prior_var=0.8)
    steps = 20 if method == "unipc" else 100
    x = sample(guided, PROCESS, shape=(N, D), steps=steps, method=method, dtype=torch.float64,
               generator=torch.Generator().manual_seed(1)).x  # fmt: skip
    # Monte-Carlo standard error of the mean ~ 0.01 per coordinate at N = 2000; measured 0.028 / 0.036 (mean),
    # 0.024 / 0.035 (covariance) for UniPC / Euler-Maruyama
    assert (x.mean(0) - mean).norm() < 0.06
    assert (torch.cov(x.T) - post).norm() < 0.08
    assert (x.mean(0) - mean).norm() < 0.2 * (MEAN - mean).norm()  # far closer than the prior mean


def test_plain_dps_is_biased_but_informative_on_a_correlated_prior() -> None:
    """DPS's Gaussian likelihood through ``x0_hat`` is an approximation; state its error on a correlated prior."""
    cov = PRIORS["correlated"]
    y = ROWS @ X_TRUE
    mean, _ = posterior(cov, ROWS, y, SIGMA)
    guided = DPS(denoiser(cov), PROCESS, MatrixOperator(ROWS), y.expand(N, 2), sigma=SIGMA,
                 prior_var=float(torch.diagonal(cov).mean()))  # fmt: skip
    x = sample(guided, PROCESS, shape=(N, D), steps=20, method="unipc", dtype=torch.float64,
               generator=torch.Generator().manual_seed(1)).x  # fmt: skip
    err, prior_err = (x.mean(0) - mean).norm(), (MEAN - mean).norm()
    assert err < 0.4, err  # measured 0.30 (unipc, 20 steps; 0.22 with 200 Euler-Maruyama steps): the bias
    assert err < 0.35 * prior_err, (err, prior_err)  # prior error 1.21


def test_data_consistency_and_the_exact_conditional_of_a_masked_gaussian() -> None:
    """Noiseless inpainting: known entries reproduced; the unknown ones move toward the exact conditional."""
    cov = PRIORS["correlated"]
    mask = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    known = torch.zeros(N, D, dtype=torch.float64)
    known[:, :2] = torch.tensor([1.0, -0.5], dtype=torch.float64)
    c_kk, c_uk, c_uu = cov[:2, :2], cov[2:, :2], cov[2:, 2:]
    cond_mean = MEAN[2:] + c_uk @ torch.linalg.solve(c_kk, known[0, :2] - MEAN[:2])
    cond_cov = c_uu - c_uk @ torch.linalg.solve(c_kk, c_uk.T)
    dc = DataConsistency(denoiser(cov), PROCESS, Mask(mask), known)
    x = sample(dc, PROCESS, shape=(N, D), steps=100, method="posterior", dtype=torch.float64,
               generator=torch.Generator().manual_seed(1)).x  # fmt: skip
    s_min = float(PROCESS.coefficients64(torch.tensor(PROCESS.t_min)).s)
    assert (x[:, :2] - known[:, :2]).abs().max() < 6 * s_min  # the state ends at t_min, noise s(t_min)
    torch.testing.assert_close(dc.project(x)[:, :2], known[:, :2])  # and projects onto them exactly
    mean_err, cov_err = (x[:, 2:].mean(0) - cond_mean).norm(), (torch.cov(x[:, 2:].T) - cond_cov).norm()
    prior_mean_err, prior_cov_err = (MEAN[2:] - cond_mean).norm(), (c_uu - cond_cov).norm()
    # projection samplers are not exact posterior samplers: measured 0.14 vs 0.29 (mean), 0.38 vs 0.98 (cov)
    assert mean_err < 0.75 * prior_mean_err, (mean_err, prior_mean_err)
    assert cov_err < 0.5 * prior_cov_err, (cov_err, prior_cov_err)


@pytest.mark.parametrize("prior", ["isotropic", "correlated"])
def test_red_diff_estimate_is_close_to_the_posterior_mean(prior: str) -> None:
    """RED-Diff (paper defaults lambda = 0.25, lr = 0.1, w = s/a) from the pseudo-inverse start."""
    cov = PRIORS[prior]
    y = ROWS @ X_TRUE
    mean, _ = posterior(cov, ROWS, y, SIGMA)
    out = red_diff(denoiser(cov), PROCESS, MatrixOperator(ROWS), y.expand(32, 2), steps=1000, sigma=SIGMA,
                   schedule="logsnr", generator=torch.Generator().manual_seed(2))  # fmt: skip
    assert out.nfe == 1000
    err = (out.x.mean(0) - mean).norm()
    start_err = (ROWS.T @ y - mean).norm()  # the pseudo-inverse estimate: 0.57 (isotropic), 1.39 (correlated)
    assert err < 0.15, err  # measured 0.05 (isotropic), 0.11 (correlated: RED-Diff's bias; spread per run ~0.25)
    assert err < 0.15 * start_err, (err, start_err)
