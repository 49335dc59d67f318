"""Classifier-free guidance: scale 0 is the unconditional sampler, and the guided score is exactly that of
``p_t(x)^(1-w) p_t(x | c)^w`` on a Gaussian mixture (Ho & Salimans 2022, eq. 6)."""

from __future__ import annotations

import pytest
import torch
from torch.distributions import MultivariateNormal

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture
from condiff.core.guidance import CFGDenoiser, schedules
from condiff.core.networks.mlp import ConditionalMLP
from condiff.core.processes import CondOTProcess, VEProcess, VPProcess
from condiff.core.sampling import ModelDenoiser, sample

G = torch.Generator().manual_seed(0)
MEANS = torch.tensor([[2.0, 0.0], [-1.0, 1.5], [0.0, -2.0]], dtype=torch.float64)
COVS = torch.stack(
    [torch.tensor([[0.3, 0.1], [0.1, 0.2]]), 0.2 * torch.eye(2), torch.tensor([[0.5, -0.2], [-0.2, 0.3]])]
)
MIXTURE = GaussianMixture(MEANS, COVS.double(), torch.tensor([0.5, 0.3, 0.2]))
CLASS0 = GaussianMixture.gaussian(MEANS[0], COVS[0].double())
PROCESSES = {"vp": VPProcess("cosine"), "ve": VEProcess(), "flow": CondOTProcess()}


def _pair(process):
    return AnalyticDenoiser(CLASS0, process).x0_eps, AnalyticDenoiser(MIXTURE, process).x0_eps


def log_marginal(data: GaussianMixture, process, x: torch.Tensor, t: float) -> torch.Tensor:
    """``log p_t(x)`` of a mixture: components ``N(a mu_k, a^2 Sigma_k + s^2 I)``."""
    c = process.coefficients64(torch.tensor(t, dtype=torch.float64))
    comps = [
        MultivariateNormal(c.a * m, c.a**2 * cov + c.s**2 * torch.eye(2, dtype=torch.float64)).log_prob(x)
        for m, cov in zip(data.means, data.covs, strict=True)
    ]
    return torch.logsumexp(torch.stack(comps, -1) + data.weights.log(), -1)


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_scale_zero_is_the_unconditional_sampler_and_one_the_conditional(name: str) -> None:
    process = PROCESSES[name]
    cond, uncond = _pair(process)
    x_T = torch.randn(64, 2, generator=G, dtype=torch.float64) * float(process.coefficients64(process.T).s)
    for w, ref in ((0.0, uncond), (1.0, cond)):
        guided = sample(CFGDenoiser(cond, uncond, process, scale=w), process, x_T, steps=8, method="unipc")
        plain = sample(ref, process, x_T, steps=8, method="unipc")
        torch.testing.assert_close(guided.x, plain.x, rtol=0, atol=0)
        assert guided.nfe == plain.nfe == 8


@pytest.mark.parametrize("name", sorted(PROCESSES))
@pytest.mark.parametrize("w", [0.5, 3.0])
def test_guided_score_is_the_score_of_the_tilted_mixture(name: str, w: float) -> None:
    process = PROCESSES[name]
    cond, uncond = _pair(process)
    guided = CFGDenoiser(cond, uncond, process, scale=w)
    for t in (0.2, 0.5, 0.8):
        x = (torch.randn(32, 2, generator=G, dtype=torch.float64) * 2).requires_grad_(True)
        logp = (1 - w) * log_marginal(MIXTURE, process, x, t) + w * log_marginal(CLASS0, process, x, t)
        (score,) = torch.autograd.grad(logp.sum(), x)
        _, eps = guided(x.detach(), torch.full((32,), t, dtype=torch.float64))
        s = float(process.coefficients64(torch.tensor(t, dtype=torch.float64)).s)
        torch.testing.assert_close(-eps / s, score, rtol=1e-8, atol=1e-8)


def test_guided_gaussians_sample_the_exact_tilted_gaussian() -> None:
    """Equal covariances: ``N(mu_u, S)^(1-w) N(mu_c, S)^w`` is ``N(mu_u + w (mu_c - mu_u), S)`` at every t."""
    process = VPProcess("linear")
    cov = torch.tensor([[0.4, 0.1], [0.1, 0.3]], dtype=torch.float64)
    mu_u, mu_c, w = torch.tensor([0.0, 0.0]), torch.tensor([1.0, -0.5]), 2.5
    cond = AnalyticDenoiser(GaussianMixture.gaussian(mu_c, cov), process).x0_eps
    uncond = AnalyticDenoiser(GaussianMixture.gaussian(mu_u, cov), process).x0_eps
    x = sample(CFGDenoiser(cond, uncond, process, scale=w), process, shape=(4000, 2), steps=20, method="unipc",
               dtype=torch.float64, generator=torch.Generator().manual_seed(1)).x  # fmt: skip
    target = (mu_u + w * (mu_c - mu_u)).double()
    assert (x.mean(0) - target).norm() < 0.04  # standard error ~ 0.01
    assert (torch.cov(x.T) - cov).norm() < 0.04


def test_schedules_evaluate_on_normalised_time() -> None:
    process = VEProcess()
    t = torch.tensor([process.t_min, 0.5 * (process.t_min + process.T), process.T], dtype=torch.float64)
    cond, uncond = _pair(process)
    torch.testing.assert_close(schedules.weight_at(schedules.linear(4.0, 1.0), t, process),
                               torch.tensor([1.0, 2.5, 4.0], dtype=torch.float64))  # fmt: skip
    torch.testing.assert_close(schedules.weight_at(schedules.cosine(3.0, 1.0), t, process),
                               torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))  # fmt: skip
    torch.testing.assert_close(schedules.weight_at(schedules.interval(5.0, 0.25, 0.75), t, process),
                               torch.tensor([1.0, 5.0, 1.0], dtype=torch.float64))  # fmt: skip
    x = torch.randn(3, 2, generator=G, dtype=torch.float64)
    scheduled = CFGDenoiser(cond, uncond, process, scale=schedules.linear(4.0, 1.0))(x, t)
    for i, w in enumerate((1.0, 2.5, 4.0)):
        const = CFGDenoiser(cond, uncond, process, scale=w)(x[i : i + 1], t[i : i + 1])
        torch.testing.assert_close(scheduled[0][i : i + 1], const[0])
    with pytest.raises(ValueError, match="u_low <= u_high"):
        schedules.interval(2.0, 0.8, 0.2)


def test_rescale_restores_the_conditional_std_and_keeps_the_pair_consistent() -> None:
    process = VPProcess("cosine")
    cond, uncond = _pair(process)
    x = torch.randn(16, 2, generator=G, dtype=torch.float64)
    t = torch.full((16,), 0.4, dtype=torch.float64)
    x0, eps = CFGDenoiser(cond, uncond, process, scale=5.0, rescale=1.0)(x, t)
    torch.testing.assert_close(x0.std(1), cond(x, t)[0].std(1))
    c = process.coefficients64(t)
    torch.testing.assert_close(c.a[:, None] * x0 + c.s[:, None] * eps, x)
    with pytest.raises(ValueError, match="rescale"):
        CFGDenoiser(cond, uncond, process, rescale=2.0)


def test_model_denoiser_is_guided_in_one_batched_call_like_its_own_cfg() -> None:
    torch.manual_seed(0)
    process = VPProcess("cosine")
    net = ConditionalMLP((2,), width=16, depth=1, num_classes=3, emb_dim=16).eval()
    labels = torch.tensor([0, 1, 2, 1])
    model = ModelDenoiser(net, process, "eps", cond={"labels": labels})
    calls = []
    net.register_forward_hook(lambda *args: calls.append(1))
    x, t = torch.randn(4, 2, generator=G), torch.full((4,), 0.3, dtype=torch.float64)
    got = CFGDenoiser(model, None, process, scale=3.0)(x, t)
    assert len(calls) == 1
    want = ModelDenoiser(net, process, "eps", cond={"labels": labels}, guidance=3.0)(x, t)
    torch.testing.assert_close(got, want)
    with pytest.raises(ValueError, match="unconditional"):
        CFGDenoiser(cond := _pair(process)[0], None, process)
    assert callable(cond)
