"""SGMSE+'s prior on the core OUVE process, and the Schrödinger-bridge sampler as the core's DDIM/posterior step."""

from __future__ import annotations

import itertools
import math

import torch

from condiff.core.parameterization import to_x0_eps
from condiff.core.processes import OUVEProcess, SBVEProcess
from condiff.core.sampling import sample
from condiff.speech.process import SGMSEOUVEProcess


def test_sgmse_prior_is_centred_on_y_with_the_terminal_std() -> None:
    p = SGMSEOUVEProcess()
    y = torch.full((20000,), 0.7)
    x = p.prior_sample((20000,), y=y, generator=torch.Generator().manual_seed(0))
    s_T = float(OUVEProcess().coefficients(torch.tensor(1.0)).s)
    assert abs(x.mean().item() - 0.7) < 3 * s_T / math.sqrt(20000)
    assert abs(x.std().item() - s_T) < 0.02 * s_T
    # s(T) of the paper's OUVE: sigma_min^2 L (e^{2L} - e^{-2 gamma}) / (gamma + L), L = log 10
    L = math.log(10.0)
    assert math.isclose(s_T, math.sqrt(0.05**2 * L * (math.exp(2 * L) - math.exp(-3.0)) / (1.5 + L)), rel_tol=1e-6)


def _sgmse_sb_ode_step(p: SBVEProcess, x: torch.Tensor, x0: torch.Tensor, y: torch.Tensor, t: float, tn: float):
    """sgmse's SB ODE update (Jukić et al. 2024, eq. 17, alpha = 1), written from the paper's variables."""

    def var(u: float) -> float:
        return p.c * (p.k ** (2 * u) - 1) / (2 * math.log(p.k))

    vT = var(1.0)
    sig_t, sig_n = math.sqrt(var(t)), math.sqrt(var(tn))
    sb_t, sb_n = math.sqrt(vT - var(t)), math.sqrt(vT - var(tn))
    w1 = sig_n * sb_n / (sig_t * sb_t)
    w2 = sb_n**2 / vT - sb_t**2 / vT * w1  # a' - a w1
    w3 = sig_n**2 / vT - sig_t**2 / vT * w1  # b' - b w1
    return w1 * x + w2 * x0 + w3 * y


def test_bridge_ode_sampler_is_ddim_and_starts_from_the_point_mass() -> None:
    p = SBVEProcess()
    g = torch.Generator().manual_seed(0)
    y = torch.randn(2, 2, 4, 4, generator=g)
    target = torch.randn(2, 2, 4, 4, generator=g)

    def denoiser(x: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x0 = target + 0.1 * torch.tanh(x)  # depends on x so the steps are not trivial
        return to_x0_eps("x0", x0, x, t, p, y)

    grid = [1.0, 0.75, 0.5, 0.25, p.t_min]
    out = sample(denoiser, p, y=y, shape=tuple(y.shape), steps=4, method="ddim", schedule=grid, dtype=torch.float64)
    # first step from the point mass y at T: a' x0_hat + b' y (the mean of the bridge given x0_hat)
    c1 = p.coefficients(torch.tensor(grid[1], dtype=torch.float64))
    x0_first = target + 0.1 * torch.tanh(y)
    x = float(c1.a) * x0_first.double() + float(c1.b) * y.double()
    for t, tn in itertools.pairwise(grid[1:]):
        x0 = (target + 0.1 * torch.tanh(x.float())).double()
        x = _sgmse_sb_ode_step(p, x, x0, y.double(), t, tn)
    assert torch.isfinite(out.x).all()
    assert torch.allclose(out.x.double(), x, atol=1e-5)
    sde = sample(denoiser, p, y=y, shape=tuple(y.shape), steps=4, method="posterior", schedule=grid,
                 generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert torch.isfinite(sde.x).all()
