"""EDM preconditioning and the conservative score wrapper."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from condiff.core.analytic import GaussianMixture
from condiff.core.preconditioning import ConservativeScore, EDMPreconditioner, edm_coefficients
from condiff.core.processes import OUVEProcess, VEProcess, VPProcess

torch.set_num_threads(1)
F64 = torch.float64


class _Zero(nn.Module):
    def forward(self, x: torch.Tensor, noise: torch.Tensor, **cond) -> torch.Tensor:
        return torch.zeros_like(x)


def test_edm_coefficients_give_unit_variance_input_and_target() -> None:
    """Karras et al. (2022), App. B.6: ``Var[c_in (x0 + n)] = 1`` and ``Var[(x0 - c_skip (x0 + n)) / c_out] = 1``."""
    sd = 0.7
    sigma = torch.logspace(-3, 2, 50, dtype=F64)
    c_skip, c_out, c_in, c_noise = edm_coefficients(sigma, sd)
    torch.testing.assert_close(c_in**2 * (sd**2 + sigma**2), torch.ones_like(sigma))
    target_var = ((1 - c_skip) ** 2 * sd**2 + c_skip**2 * sigma**2) / c_out**2
    torch.testing.assert_close(target_var, torch.ones_like(sigma))
    torch.testing.assert_close(c_noise, 0.25 * torch.log(sigma))


@pytest.mark.parametrize("process", [VPProcess("cosine"), VEProcess(), OUVEProcess()], ids=["vp", "ve", "ouve"])
def test_preconditioner_with_a_zero_network_is_the_exact_denoiser_of_isotropic_gaussian_data(process) -> None:
    """For ``x0 ~ N(0, sd^2 I)`` the Bayes denoiser is ``c_skip xs``: ``F = 0`` must give the analytic posterior."""
    sd = 0.6
    data = GaussianMixture.gaussian(torch.zeros(3), sd**2 * torch.eye(3))
    g = torch.Generator().manual_seed(0)
    x = 2.0 * torch.randn(10, 3, generator=g, dtype=F64)
    t = process.t_min + (process.T - process.t_min) * torch.rand(10, generator=g, dtype=F64)
    y = torch.tensor([0.5, -1.0, 0.2], dtype=F64)
    model = EDMPreconditioner(_Zero(), process, sigma_data=sd)
    torch.testing.assert_close(model(x, t, y=y), data.posterior(x, t, process, y)[0])


def test_preconditioner_feeds_scaled_input_and_noise_level_to_the_network() -> None:
    seen = {}

    class _Spy(nn.Module):
        def forward(self, x, noise, **cond):
            seen.update(x=x, noise=noise, cond=cond)
            return torch.ones_like(x)

    p = VPProcess("linear")
    x = torch.randn(4, 2, dtype=F64)
    t = torch.full((4,), 0.5, dtype=F64)
    out = EDMPreconditioner(_Spy(), p, sigma_data=0.5, pass_y=True)(x, t, y=None, labels=torch.arange(4))
    c = p.coefficients(t)
    sigma = c.s / c.a
    c_skip, c_out, c_in, c_noise = edm_coefficients(sigma, 0.5)
    torch.testing.assert_close(seen["x"], c_in[:, None] * x / c.a[:, None])
    torch.testing.assert_close(seen["noise"], c_noise)
    assert set(seen["cond"]) == {"labels", "y"}
    torch.testing.assert_close(out, c_skip[:, None] * x / c.a[:, None] + c_out[:, None])
    with pytest.raises(ValueError, match="noise_input"):
        EDMPreconditioner(_Zero(), p, noise_input="sigma")
    with pytest.raises(ValueError, match="sigma_data"):
        EDMPreconditioner(_Zero(), p, sigma_data=0.0)


class _Energy(nn.Module):
    def __init__(self, dim: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, t[:, None]], dim=1)).squeeze(1)


class _Field(nn.Module):
    def __init__(self, dim: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim + 1, 32), nn.Tanh(), nn.Linear(32, dim))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, t[:, None]], dim=1))


def _jacobian(model: nn.Module, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return torch.autograd.functional.jacobian(lambda z: model(z[None], t[:1])[0], x)


def test_conservative_score_has_a_symmetric_jacobian_and_a_free_field_does_not() -> None:
    torch.manual_seed(0)
    score = ConservativeScore(_Energy()).double()
    free = _Field().double()
    x, t = torch.randn(4, dtype=F64), torch.tensor([0.3], dtype=F64)
    jac = _jacobian(score, x, t)
    assert float((jac - jac.T).abs().max()) < 1e-12 * max(1.0, float(jac.abs().max()))
    jf = _jacobian(free, x, t)
    assert float((jf - jf.T).abs().max()) > 1e-2  # baseline: an unconstrained network is not conservative


def test_conservative_score_of_a_quadratic_energy_is_linear_and_trains() -> None:
    a = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=F64)

    class _Quadratic(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.tensor(1.0, dtype=F64))

        def forward(self, x, t):
            return 0.5 * self.scale * torch.einsum("bi,ij,bj->b", x, a, x)

    model = ConservativeScore(_Quadratic())
    x = torch.randn(5, 2, dtype=F64)
    out = model(x, torch.zeros(5, dtype=F64))
    torch.testing.assert_close(out, -x @ a)
    out.square().sum().backward()  # create_graph: the gradient reaches the energy's parameters
    assert model.energy.scale.grad is not None
    assert float(model.energy.scale.grad) > 0
    with torch.no_grad():
        assert not model(x, torch.zeros(5, dtype=F64)).requires_grad


def test_conservative_score_rejects_a_non_scalar_energy() -> None:
    with pytest.raises(ValueError, match=r"energy must return \(B,\)"):
        ConservativeScore(_Field().double())(torch.randn(3, 4, dtype=F64), torch.zeros(3, dtype=F64))
