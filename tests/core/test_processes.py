"""Processes: closed-form coefficients against autograd, the forward SDE, the reverse SDE/ODE and bad input."""

from __future__ import annotations

import math

import pytest
import torch

from condiff.core.analytic import GaussianMixture
from condiff.core.processes import (
    BrownianBridgeProcess,
    CondOTProcess,
    DiscreteVPProcess,
    GaussianProcess,
    MeanRevertingProcess,
    OneSidedInterpolant,
    OUVEProcess,
    ProductProcess,
    ProjectedProcess,
    ResidualProcess,
    SBVEProcess,
    StochasticInterpolant,
    SubVPProcess,
    VEProcess,
    VPProcess,
    ZeroCenterOfMass,
)

torch.set_num_threads(1)
F64 = torch.float64


def process_zoo() -> dict[str, GaussianProcess]:
    """One instance of every process family and schedule."""
    return {
        "vp-linear": VPProcess("linear"),
        "vp-cosine": VPProcess("cosine"),
        "vp-discrete": DiscreteVPProcess(betas=torch.linspace(1e-4, 0.02, 1000, dtype=F64)),
        "subvp": SubVPProcess(),
        "ve": VEProcess(sigma_min=0.01, sigma_max=20.0),
        "ouve": OUVEProcess(),
        "sbve": SBVEProcess(),
        "irsde-cosine": MeanRevertingProcess(sigma_inf=0.5, schedule="cosine"),
        "irsde-linear": MeanRevertingProcess(sigma_inf=0.5, schedule="linear"),
        "irsde-constant": MeanRevertingProcess(sigma_inf=0.5, schedule="constant"),
        "rddm-dec-inc": ResidualProcess("decreased", "increased", sum_scale=1.0),
        "rddm-avg-dec": ResidualProcess("average", "decreased", sum_scale=0.1),
        "rddm-inc-avg": ResidualProcess("increased", "average", sum_scale=0.5),
        "bridge": BrownianBridgeProcess(sigma=0.8),
        "si-linear": StochasticInterpolant("linear", "brownian", gamma_scale=0.7),
        "si-trig-quad": StochasticInterpolant("trig", "quadratic", gamma_scale=1.0),
        "one-sided-linear": OneSidedInterpolant("linear"),
        "one-sided-trig": OneSidedInterpolant("trig"),
        "one-sided-vp": OneSidedInterpolant("vp"),
        "cond-ot": CondOTProcess(sigma_min=1e-2),
    }


ZOO = process_zoo()
NAMES = list(ZOO)


def interior_times(p: GaussianProcess, n: int, lo: float = 0.02, hi: float = 0.9, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    u = lo + (hi - lo) * torch.rand(n, generator=g, dtype=F64)
    return p.t_min + (p.T - p.t_min) * u


@pytest.mark.parametrize("name", NAMES)
def test_time_derivatives_match_autograd(name: str) -> None:
    p = ZOO[name]
    t = interior_times(p, 64).requires_grad_(True)
    c = p.coefficients(t)
    for value, deriv in ((c.a, c.da), (c.b, c.db), (c.s, c.ds)):
        if not value.requires_grad:  # a constant coefficient (b = 0 or a = 1)
            assert bool((deriv == 0).all())
            continue
        (auto,) = torch.autograd.grad(value.sum(), t, retain_graph=True, allow_unused=True)
        auto = torch.zeros_like(t) if auto is None else auto
        torch.testing.assert_close(deriv.detach(), auto, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_time_derivatives_match_finite_differences(name: str) -> None:
    p = ZOO[name]
    t = interior_times(p, 16, seed=1)
    h = 1e-6
    c, cp, cm = p.coefficients(t), p.coefficients(t + h), p.coefficients(t - h)
    for key in ("a", "b", "s"):
        fd = (getattr(cp, key) - getattr(cm, key)) / (2 * h)
        # the discrete VP has kinks at its knots; a knot within h of t changes the slope
        torch.testing.assert_close(getattr(c, "d" + key), fd, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_log_snr_is_log_a_over_s_decreasing_and_inverted(name: str) -> None:
    p = ZOO[name]
    t = torch.sort(interior_times(p, 50, lo=0.0, hi=0.98)).values
    c = p.coefficients(t)
    lam = p.log_snr(t)
    torch.testing.assert_close(lam, torch.log(c.a / c.s), rtol=1e-10, atol=1e-10)
    assert bool((torch.diff(lam) < 0).all()), "log-SNR must decrease in t"
    torch.testing.assert_close(p.t_from_log_snr(lam), t, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_diffusion_sq_is_minus_two_s2_dlambda(name: str) -> None:
    p = ZOO[name]
    t = interior_times(p, 32, seed=2).requires_grad_(True)
    (dlam,) = torch.autograd.grad(p.log_snr(t).sum(), t)
    c = p.coefficients(t.detach())
    g2 = p.diffusion_sq(t.detach())
    torch.testing.assert_close(g2, -2 * c.s**2 * dlam, rtol=1e-8, atol=1e-10)
    assert bool((g2 > 0).all())


@pytest.mark.parametrize("name", NAMES)
def test_forward_sde_reproduces_marginal_mean_and_variance(name: str) -> None:
    """Euler-Maruyama of ``dx = f dt + g dW`` from the exact marginal at ``t0`` to ``t1``.

    ``n = 10000`` paths: the Monte-Carlo standard error of the mean is ``s/sqrt(n)`` and
    that of the variance ``s^2 sqrt(2/(n-1))``; we allow 5 standard errors plus an Euler
    bias of 1% of the scale (weak order one with 1500 steps).
    """
    p = ZOO[name]
    g = torch.Generator().manual_seed(3)
    n, steps = 10000, 1500
    x0 = torch.full((n, 1), 0.8, dtype=F64)
    y = torch.full((n, 1), -1.2, dtype=F64)
    t0, t1 = p.t_min + 0.02 * (p.T - p.t_min), p.t_min + 0.9 * (p.T - p.t_min)
    x, _ = p.marginal_sample(x0, torch.full((n,), t0, dtype=F64), y, generator=g)
    ts = torch.linspace(t0, t1, steps + 1, dtype=F64)
    for i in range(steps):
        t, dt = ts[i], ts[i + 1] - ts[i]
        noise = torch.randn(x.shape, generator=g, dtype=F64)
        x = x + p.forward_drift(x, t, y) * dt + torch.sqrt(p.diffusion_sq(t) * dt) * noise
    c = p.coefficients(torch.tensor(t1, dtype=F64))
    mean, var = float(c.a * 0.8 + c.b * -1.2), float(c.s**2)
    scale = abs(mean) + math.sqrt(var)
    assert abs(x.mean().item() - mean) < 5 * math.sqrt(var / n) + 0.005 * scale
    assert abs(x.var().item() - var) < 5 * var * math.sqrt(2 / (n - 1)) + 0.005 * var


@pytest.mark.parametrize("name", NAMES)
def test_forward_sde_moment_equations_match_the_closed_form(name: str) -> None:
    """The mean and variance ODEs of the forward SDE, ``m' = k m + (b' - k b) y`` and
    ``v' = 2 k v + g^2`` with ``k = a'/a``, integrated by RK4 (400 steps) from the exact
    moments at ``t0``, must hit ``a x0 + b y`` and ``s^2`` at ``t1`` to 1e-6 relative: no
    Monte-Carlo error, so a 0.1% error in ``f`` or ``g^2`` fails."""
    p = ZOO[name]
    x0, y = torch.tensor([0.8], dtype=F64), torch.tensor([-1.2], dtype=F64)
    t0, t1 = p.t_min + 0.02 * (p.T - p.t_min), p.t_min + 0.9 * (p.T - p.t_min)

    def rhs(t: torch.Tensor, mv: torch.Tensor) -> torch.Tensor:
        k = p.forward_drift(torch.ones(1, 1, dtype=F64), t).reshape(())
        dm = p.forward_drift(mv[:1].reshape(1, 1), t, y.reshape(1, 1)).reshape(1)
        return torch.cat([dm, (2 * k * mv[1:] + p.diffusion_sq(t))])

    c0 = p.coefficients(torch.tensor(t0, dtype=F64))
    mv = torch.cat([c0.a * x0 + c0.b * y, (c0.s**2).reshape(1)])
    ts = torch.linspace(t0, t1, 401, dtype=F64)
    for i in range(400):
        t, h = ts[i], ts[i + 1] - ts[i]
        k1 = rhs(t, mv)
        k2 = rhs(t + h / 2, mv + h / 2 * k1)
        k3 = rhs(t + h / 2, mv + h / 2 * k2)
        k4 = rhs(t + h, mv + h * k3)
        mv = mv + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    c1 = p.coefficients(torch.tensor(t1, dtype=F64))
    expected = torch.cat([c1.a * x0 + c1.b * y, (c1.s**2).reshape(1)])
    # the discrete VP's piecewise-constant slope makes RK4 first order across its knots
    rtol = 1e-4 if name == "vp-discrete" else 1e-6
    torch.testing.assert_close(mv, expected, rtol=rtol, atol=1e-9)


def _data(kind: str) -> GaussianMixture:
    if kind == "gaussian":
        return GaussianMixture.gaussian(torch.tensor([0.5, -0.3]), torch.tensor([[1.0, 0.3], [0.3, 0.5]]))
    rot = torch.tensor([[0.2, 0.1], [0.1, 0.15]], dtype=F64)
    return GaussianMixture(
        torch.tensor([[-1.0, 0.5], [1.2, -0.4]]),
        torch.stack([0.3 * torch.eye(2, dtype=F64), rot]),
        torch.tensor([0.4, 0.6]),
    )


def _moment_tolerances(cov: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    var = torch.diagonal(cov)
    mean_tol = 5 * torch.sqrt(var / n) + 0.02 * var.sqrt()
    cov_se = torch.sqrt((var[:, None] * var[None, :] + cov**2) / n)
    return mean_tol, 5 * cov_se + 0.03 * torch.sqrt(var[:, None] * var[None, :])


@pytest.mark.parametrize("data_kind", ["gaussian", "mixture"])
@pytest.mark.parametrize("name", NAMES)
def test_reverse_sde_and_pf_ode_with_exact_score_recover_the_marginal(name: str, data_kind: str) -> None:
    """From the exact marginal at ``t1`` back to ``t0`` with the analytic ``eps_hat``.

    The reverse SDE (Euler-Maruyama, 300 steps) and the probability-flow ODE (Heun,
    80 steps) must reproduce the mean and covariance of the exact marginal at ``t0``
    (the data law convolved with ``s(t0)`` noise) within 5 Monte-Carlo standard errors
    plus a 2-3% discretisation allowance.
    """
    p, data = ZOO[name], _data(data_kind)
    g = torch.Generator().manual_seed(4)
    n = 2000
    y = torch.tensor([0.4, -0.7], dtype=F64)
    t0, t1 = p.t_min + 0.02 * (p.T - p.t_min), p.t_min + 0.9 * (p.T - p.t_min)
    x_start, _ = p.marginal_sample(data.sample(n, g), torch.full((n,), t1, dtype=F64), y, generator=g)

    def eps_hat(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return data.posterior(x, t, p, y)[1]

    # SDE steps are denser near t0, where the score is steepest
    grid = t0 + (t1 - t0) * torch.linspace(0, 1, 301, dtype=F64) ** 1.5
    x = x_start.clone()
    for i in range(300, 0, -1):
        t, dt = grid[i], grid[i - 1] - grid[i]
        drift = p.reverse_drift(x, t, eps_hat(x, t), y)
        x = x + drift * dt + torch.sqrt(p.diffusion_sq(t) * -dt) * torch.randn(x.shape, generator=g, dtype=F64)
    sde_result = x

    grid = t0 + (t1 - t0) * torch.linspace(0, 1, 81, dtype=F64) ** 1.5
    x = x_start.clone()
    for i in range(80, 0, -1):
        t, tn = grid[i], grid[i - 1]
        k1 = p.reverse_drift(x, t, eps_hat(x, t), y, diffusion_scale=0.0)
        xe = x + (tn - t) * k1
        k2 = p.reverse_drift(xe, tn, eps_hat(xe, tn), y, diffusion_scale=0.0)
        x = x + (tn - t) * 0.5 * (k1 + k2)
    ode_result = x

    mean, cov = data.marginal_moments(p, t0, y)
    mean_tol, cov_tol = _moment_tolerances(cov, n)
    for result in (sde_result, ode_result):
        assert bool(((result.mean(0) - mean).abs() < mean_tol).all()), (result.mean(0), mean)
        assert bool(((torch.cov(result.T) - cov).abs() < cov_tol).all()), (torch.cov(result.T), cov)


def test_discrete_vp_matches_continuous_vp_at_its_knots() -> None:
    vp = VPProcess("linear")
    n = 1000
    knots = torch.arange(1, n + 1, dtype=F64) / n
    dvp = DiscreteVPProcess(alphas_cumprod=vp.coefficients(knots).a ** 2)
    # exact at the knots; between them log alpha is interpolated linearly (error O(1/N^2))
    for t, atol in ((knots[5:-1:97], 1e-12), (knots[5:-1:97] + 0.3 / n, 1e-5)):
        c, d = vp.coefficients(t), dvp.coefficients(t)
        torch.testing.assert_close(d.a, c.a, rtol=1e-12, atol=atol)
    lam = vp.log_snr(knots[3:-1:50])
    torch.testing.assert_close(dvp.t_from_log_snr(lam), knots[3:-1:50], rtol=0, atol=1e-10)


def test_ouve_variance_is_the_sgmse_closed_form() -> None:
    """``OUVESDE._std`` of sgmse: ``sqrt(sigma_min^2 e^{-2 theta t} (e^{2 (theta + L) t} - 1) L / (theta + L))``."""
    p = OUVEProcess(gamma=1.5, sigma_min=0.05, sigma_max=0.5)
    t = torch.linspace(0.03, 1.0, 11, dtype=F64)
    L = math.log(10.0)
    ref = torch.sqrt(0.05**2 * torch.exp(-3.0 * t) * (torch.exp(2 * (1.5 + L) * t) - 1) * L / (1.5 + L))
    torch.testing.assert_close(p.coefficients(t).s, ref, rtol=1e-12, atol=0)


def test_sbve_matches_the_sgmse_bridge_formulas() -> None:
    """sgmse ``SBVESDE``: weights ``sigmabar_t^2/sigma_T^2``, ``sigma_t^2/sigma_T^2``, std sigmabar sigma/sigma_T."""
    k, c = 2.6, 0.4
    p = SBVEProcess(k=k, c=c)
    t = torch.linspace(0.01, 0.99, 9, dtype=F64)
    var = c * (k ** (2 * t) - 1) / (2 * math.log(k))
    var_T = c * (k**2 - 1) / (2 * math.log(k))
    co = p.coefficients(t)
    torch.testing.assert_close(co.a, (var_T - var) / var_T)
    torch.testing.assert_close(co.b, var / var_T)
    torch.testing.assert_close(co.s, torch.sqrt(var_T - var) * torch.sqrt(var) / math.sqrt(var_T))


@pytest.mark.parametrize("schedule", ["cosine", "linear", "constant"])
def test_irsde_reaches_its_end_value_and_stationary_std(schedule: str) -> None:
    p = MeanRevertingProcess(sigma_inf=0.3, schedule=schedule, end_value=0.005)
    c = p.coefficients(torch.tensor(1.0, dtype=F64))
    assert abs(float(c.a) - 0.005) < 1e-12
    assert abs(float(c.s) - 0.3 * math.sqrt(1 - 0.005**2)) < 1e-12


@pytest.mark.parametrize("schedule", ["increased", "decreased", "average"])
def test_rddm_continuous_schedules_are_the_limit_of_the_discrete_cumsum(schedule: str) -> None:
    """RDDM's ``gen_coefficients``: weights ``n``, ``N + 1 - n`` or ``1``, normalised; cumsum at step ``n``."""
    n = 2000
    idx = torch.arange(1, n + 1, dtype=F64)
    w = {"increased": idx, "decreased": idx.flip(0), "average": torch.ones(n, dtype=F64)}[schedule]
    cum = torch.cumsum(w / w.sum(), 0)
    p = ResidualProcess(alpha_schedule=schedule, beta_schedule=schedule, sum_scale=0.3)
    c = p.coefficients(idx / n)
    torch.testing.assert_close(c.b, cum, rtol=0, atol=2.0 / n)
    torch.testing.assert_close(c.s**2, 0.3 * cum, rtol=0, atol=2.0 / n)


def test_stochastic_interpolant_diffusion_level_enters_the_reverse_drift() -> None:
    """``level = eps(t)`` gives drift ``v_ode - eps score``; ``eps = g^2/2`` equals the reverse SDE."""
    p = StochasticInterpolant("linear", "brownian", epsilon=0.3)
    g = torch.Generator().manual_seed(5)
    x, e = torch.randn(6, 3, generator=g, dtype=F64), torch.randn(6, 3, generator=g, dtype=F64)
    t = torch.full((6,), 0.4, dtype=F64)
    ode = p.reverse_drift(x, t, e, diffusion_scale=0.0)
    score = -e / p.coefficients(t).s[:, None]
    torch.testing.assert_close(p.reverse_drift(x, t, e, level=p.diffusion_level(t)), ode - 0.3 * score)
    g2 = p.diffusion_sq(t)
    torch.testing.assert_close(p.reverse_drift(x, t, e, level=0.5 * g2), p.reverse_drift(x, t, e))


def test_product_process_applies_one_process_per_component() -> None:
    vp, ve = VPProcess(), VEProcess()
    prod = ProductProcess([vp, ve])
    g = torch.Generator().manual_seed(6)
    x0 = (torch.randn(4, 5, 3, generator=g, dtype=F64), torch.randn(4, 5, 5, generator=g, dtype=F64))
    noise = (torch.randn(4, 5, 3, generator=g, dtype=F64), torch.randn(4, 5, 5, generator=g, dtype=F64))
    t = torch.full((4,), 0.3, dtype=F64)
    xt, eps = prod.marginal_sample(x0, t, noise=noise)
    for i, proc in enumerate((vp, ve)):
        ref, _ = proc.marginal_sample(x0[i], t, noise=noise[i])
        torch.testing.assert_close(xt[i], ref)
        torch.testing.assert_close(eps[i], noise[i])
    drifts = prod.reverse_drift(xt, t, eps)
    torch.testing.assert_close(drifts[1], ve.reverse_drift(xt[1], t, eps[1]))
    assert (prod.t_min, prod.T) == (max(vp.t_min, ve.t_min), 1.0)
    with pytest.raises(ValueError, match="2 components"):
        prod.marginal_sample(x0[:1], t)


def test_zero_center_of_mass_projection_is_idempotent_and_applied_to_noise() -> None:
    proj = ZeroCenterOfMass(dim=-2)
    p = ProjectedProcess(VPProcess(), proj)
    g = torch.Generator().manual_seed(7)
    x0 = proj(torch.randn(8, 6, 3, generator=g, dtype=F64))
    xt, eps = p.marginal_sample(x0, torch.full((8,), 0.5, dtype=F64), generator=g)
    assert eps.mean(dim=1).abs().max() < 1e-12
    assert xt.mean(dim=1).abs().max() < 1e-12
    torch.testing.assert_close(proj(proj(eps)), proj(eps))
    assert p.prior_sample((8, 6, 3), generator=g, dtype=F64).mean(dim=1).abs().max() < 1e-12
    mask = torch.ones(8, 6)
    mask[:, 4:] = 0
    masked = proj(torch.randn(8, 6, 3, generator=g, dtype=F64), mask)
    assert masked[:, :4].mean(dim=1).abs().max() < 1e-12
    assert masked[:, 4:].abs().max() == 0


BAD_CONSTRUCTORS = [
    (lambda: VPProcess(schedule="quadratic"), "schedule"),
    (lambda: SubVPProcess(beta_min=5.0, beta_max=1.0), "beta_min"),
    (lambda: VEProcess(sigma_min=1.0, sigma_max=0.5), "sigma_min"),
    (lambda: OUVEProcess(gamma=-1.0), "gamma"),
    (lambda: OUVEProcess(t_min=0.0), "t_min"),
    (lambda: SBVEProcess(k=0.5), "k must"),
    (lambda: SBVEProcess(c=0.0), "c must"),
    (lambda: MeanRevertingProcess(schedule="exp"), "schedule"),
    (lambda: MeanRevertingProcess(end_value=1.5), "end_value"),
    (lambda: MeanRevertingProcess(sigma_inf=0.0), "sigma_inf"),
    (lambda: ResidualProcess(alpha_schedule="up"), "alpha_schedule"),
    (lambda: ResidualProcess(beta_schedule="up"), "beta_schedule"),
    (lambda: ResidualProcess(sum_scale=0.0), "sum_scale"),
    (lambda: BrownianBridgeProcess(sigma=0.0), "sigma"),
    (lambda: BrownianBridgeProcess(T=1.5), "T"),
    (lambda: StochasticInterpolant(path="cubic"), "path"),
    (lambda: StochasticInterpolant(gamma="none"), "gamma"),
    (lambda: OneSidedInterpolant(path="cubic"), "path"),
    (lambda: CondOTProcess(sigma_min=0.0, t_min=0.0), "t_min"),
    (lambda: DiscreteVPProcess(betas=torch.tensor([0.1, 1.5])), "betas"),
    (lambda: DiscreteVPProcess(), "exactly one"),
    (lambda: ProductProcess([VPProcess(t_min=0.5, T=0.6), VEProcess(t_min=0.7)]), "overlap"),
]


@pytest.mark.parametrize(("make", "match"), BAD_CONSTRUCTORS)
def test_bad_constructor_arguments_raise_a_named_value_error(make, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make()


def test_non_monotone_schedule_table_is_rejected_with_its_index() -> None:
    table = torch.tensor([0.99, 0.95, 0.96, 0.5], dtype=F64)
    with pytest.raises(ValueError, match="strictly decreasing; entry 2"):
        DiscreteVPProcess(alphas_cumprod=table)


@pytest.mark.parametrize("name", ["vp-linear", "ouve", "bridge"])
def test_time_outside_the_range_is_rejected(name: str) -> None:
    p = ZOO[name]
    x0 = torch.zeros(2, 3, dtype=F64)
    for bad in (p.t_min - 0.01, p.T + 0.01, float("nan")):
        with pytest.raises(ValueError, match="time t must lie in"):
            p.marginal_sample(x0, torch.tensor([0.5, bad], dtype=F64))


def test_mismatched_shapes_are_rejected() -> None:
    p = VPProcess()
    x = torch.zeros(4, 3, dtype=F64)
    t = torch.full((4,), 0.5, dtype=F64)
    with pytest.raises(ValueError, match="shape of x"):
        p.x0_from_eps(x, t, torch.zeros(4, 2, dtype=F64))
    with pytest.raises(ValueError, match="does not broadcast"):
        p.x0_from_eps(x, t, x, y=torch.zeros(5, 3, dtype=F64))
    with pytest.raises(ValueError, match="does not match a batch"):
        p.x0_from_eps(x, torch.full((3,), 0.5, dtype=F64), x)


def test_consecutive_brownian_bridge_pairs_share_noise_and_match_the_paper_variance() -> None:
    from condiff.core.processes import ConsecutiveBrownianBridge

    p = ConsecutiveBrownianBridge(max_var=0.5)
    g = torch.Generator().manual_seed(0)
    x0, y_prev, y_next = (torch.randn(4000, 3, generator=g, dtype=torch.float64) for _ in range(3))
    t = torch.rand(4000, generator=g, dtype=torch.float64) * 0.9 + 0.05
    x_prev, x_next, eps = p.paired_sample(x0, y_prev, y_next, t, generator=g)
    tt = t[:, None]
    # Same noise on both sides: the difference is the deterministic t (y_next - y_prev).
    torch.testing.assert_close(x_next - x_prev, tt * (y_next - y_prev))
    torch.testing.assert_close(x_prev, (1 - tt) * x0 + tt * y_prev + torch.sqrt(2 * 0.5 * tt * (1 - tt)) * eps)
    assert p.coefficients64(torch.tensor(0.5, dtype=torch.float64)).s.item() == pytest.approx(math.sqrt(0.5 * 0.5))
    signed = p.signed_time(torch.tensor([0.2, 0.3]), torch.tensor([True, False]))
    torch.testing.assert_close(signed, torch.tensor([0.2, -0.3]))
    with pytest.raises(ValueError, match="max_var"):
        ConsecutiveBrownianBridge(max_var=0.0)
