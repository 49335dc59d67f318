"""Advection exactness; Burgers against Cole-Hopf, its conservation law and its convergence orders; the exact
forced heat equation (the linear baseline)."""

from __future__ import annotations

import math

import pytest
import torch

from condiff.pde.physics import (
    advection_exact,
    advection_forced,
    burgers,
    cole_hopf_solution,
    heat_forced,
    periodic_grid,
    random_forcing,
    random_fourier_field,
    random_gaussian_bumps,
)


def test_advection_matches_the_shifted_closed_form() -> None:
    x = periodic_grid(32)
    c = torch.tensor([0.3, -1.7], dtype=torch.float64)
    t = torch.tensor([0.0, 0.1, 0.55, 2.0], dtype=torch.float64)

    def u(xs: torch.Tensor) -> torch.Tensor:
        return torch.sin(2 * math.pi * xs) + 0.5 * torch.cos(6 * math.pi * xs) - 0.2 * torch.sin(14 * math.pi * xs)

    out = advection_exact(u(x).expand(2, -1), c, t)
    expected = u(x - c[:, None, None] * t[None, :, None])
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)
    one_cell = advection_exact(u(x)[None], 1.0, torch.tensor([1 / 32]))
    torch.testing.assert_close(one_cell[:, 0], torch.roll(u(x)[None], 1, dims=-1), atol=1e-12, rtol=0)


def test_advection_of_random_fields_is_periodic_in_time() -> None:
    u0 = random_fourier_field(3, 64, 5, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(advection_exact(u0, 0.5, torch.tensor([2.0]))[:, 0], u0, atol=1e-12, rtol=0)


def test_burgers_matches_cole_hopf() -> None:
    nu = 0.05
    x, t = periodic_grid(64), torch.linspace(0, 0.5, 6, dtype=torch.float64)
    exact = cole_hopf_solution(x, t, nu, amplitude=0.8)
    u = burgers(exact[:1], nu=nu, nt=5, t_final=0.5, max_dt=1e-3)[0]
    assert (u - exact).abs().max() < 1e-7 * exact.abs().max()


def test_burgers_converges_fourth_order_in_time_and_spectrally_in_space() -> None:
    nu = 0.05
    t = torch.tensor([0.0, 0.5], dtype=torch.float64)

    def error(n: int, dt: float) -> float:
        exact = cole_hopf_solution(periodic_grid(n), t, nu, amplitude=0.8)
        return float((burgers(exact[:1], nu=nu, nt=1, t_final=0.5, max_dt=dt)[0, -1] - exact[-1]).abs().max())

    coarse, fine = error(64, 0.025), error(64, 0.0125)
    order = math.log2(coarse / fine)
    assert 3.5 < order < 4.5, f"temporal order {order:.2f} (errors {coarse:.2e}, {fine:.2e})"
    # spectral in space: doubling the grid divides the error by more than any fixed power would
    assert error(32, 1e-3) < 1e-3 * error(16, 1e-3)


def test_burgers_conserves_the_mean_and_forcing_adds_its_integral() -> None:
    gen = torch.Generator().manual_seed(1)
    u0 = random_gaussian_bumps(3, 64, generator=gen) + 0.3
    free = burgers(u0, nu=0.01, nt=4, t_final=0.4)
    torch.testing.assert_close(free.mean(-1), u0.mean(-1, keepdim=True).expand(-1, 5), atol=1e-13, rtol=0)
    f = random_forcing(3, 4, 64, generator=gen)
    forced = burgers(u0, nu=0.01, nt=4, t_final=0.4, forcing=f)
    expected = u0.mean(-1, keepdim=True) + torch.cumsum(0.1 * f.mean(-1), dim=1)
    torch.testing.assert_close(forced[:, 1:].mean(-1), expected, atol=1e-13, rtol=0)
    assert (forced - free).abs().max() > 1e-2  # the forcing acts


def test_burgers_is_deterministic_and_batch_independent() -> None:
    def data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator().manual_seed(seed)
        return random_gaussian_bumps(4, 32, generator=gen), random_forcing(4, 3, 32, generator=gen)

    u0, f = data(7)
    u0_again, f_again = data(7)
    torch.testing.assert_close(u0, u0_again, atol=0, rtol=0)
    torch.testing.assert_close(f, f_again, atol=0, rtol=0)
    batch = burgers(u0, nt=3, t_final=0.3, forcing=f)
    single = burgers(u0[2:3], nt=3, t_final=0.3, forcing=f[2:3])
    torch.testing.assert_close(batch[2:3], single, atol=1e-14, rtol=0)


def test_bad_inputs_get_clear_errors() -> None:
    u0 = torch.zeros(2, 16, dtype=torch.float64)
    with pytest.raises(ValueError, match="u0 contains NaN"):
        burgers(torch.full((1, 16), float("nan")))
    with pytest.raises(ValueError, match="u0 must be a floating-point \\(B, N\\)"):
        burgers(torch.zeros(16))
    with pytest.raises(ValueError, match="forcing must have shape"):
        burgers(u0, nt=3, forcing=torch.zeros(2, 2, 16))
    with pytest.raises(ValueError, match="nu > 0"):
        burgers(u0, nu=0.0)
    with pytest.raises(ValueError, match="velocity must be a scalar or \\(B,\\)"):
        advection_exact(u0, torch.ones(3), torch.zeros(1))
    with pytest.raises(ValueError, match="amplitude must satisfy"):
        cole_hopf_solution(periodic_grid(8), torch.zeros(1), 0.1, amplitude=1.0)
    with pytest.raises(ValueError, match="modes must be in"):
        random_fourier_field(1, 8, 4, generator=torch.Generator())


def test_heat_forced_matches_the_closed_form_per_mode() -> None:
    # u_t = nu u_xx + f with u0 = sin(2 pi x) and f = g cos(4 pi x) constant in time:
    # u = e^{-nu k1^2 t} sin(k1 x) + g (1 - e^{-nu k2^2 t}) / (nu k2^2) cos(k2 x), plus t * mean(f) (zero here).
    nu, g, t_final, nt = 0.05, 0.7, 0.8, 4
    x = periodic_grid(16)
    k1, k2 = 2 * math.pi, 4 * math.pi
    f = (g * torch.cos(k2 * x) + 0.3).expand(1, nt, -1)
    out = heat_forced(torch.sin(k1 * x)[None], nu=nu, nt=nt, t_final=t_final, forcing=f)
    t = torch.linspace(0, t_final, nt + 1, dtype=torch.float64)[:, None]
    expected = (
        torch.exp(-nu * k1**2 * t) * torch.sin(k1 * x)
        + g * (1 - torch.exp(-nu * k2**2 * t)) / (nu * k2**2) * torch.cos(k2 * x)
        + 0.3 * t
    )
    torch.testing.assert_close(out[0], expected, atol=1e-13, rtol=0)


def test_heat_forced_is_burgers_without_transport_for_small_states() -> None:
    # For a tiny state the advection term (quadratic) is negligible: Burgers -> the linear solution.
    gen = torch.Generator().manual_seed(3)
    u0 = 1e-4 * random_gaussian_bumps(2, 32, generator=gen)
    f = 1e-4 * random_forcing(2, 5, 32, generator=gen)
    lin = heat_forced(u0, nu=0.01, nt=5, t_final=0.5, forcing=f)
    full = burgers(u0, nu=0.01, nt=5, t_final=0.5, forcing=f)
    assert (lin - full).abs().max() < 1e-3 * full.abs().max()


def test_forced_advection_transports_and_integrates_along_characteristics() -> None:
    # u_t + c u_x = f with f = g sin(k x), g constant: u = u0(x - c t) + g (cos(k(x - c t)) - cos(k x)) / (k c)
    c, g, nt, t_final = 0.7, 0.4, 5, 0.9
    x = periodic_grid(32)
    k = 4 * math.pi
    u0 = torch.sin(2 * math.pi * x) + 0.3
    f = (g * torch.sin(k * x)).expand(1, nt, -1)
    out = advection_forced(u0[None], velocity=c, nt=nt, t_final=t_final, forcing=f)
    t = torch.linspace(0, t_final, nt + 1, dtype=torch.float64)[:, None]
    expected = (
        torch.sin(2 * math.pi * (x - c * t)) + 0.3 + g * (torch.cos(k * (x - c * t)) - torch.cos(k * x)) / (k * c)
    )
    torch.testing.assert_close(out[0], expected, atol=1e-13, rtol=0)
    free = advection_forced(u0[None], velocity=c, nt=nt, t_final=t_final)
    torch.testing.assert_close(free, advection_exact(u0[None], c, t[:, 0]), atol=1e-13, rtol=0)
