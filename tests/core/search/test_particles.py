"""Particle search on a Gaussian mixture with a known reward: more reward than plain sampling at equal NFE,
exact NFE accounting, and Rollover Budget Forcing never over its budget."""

from __future__ import annotations

import pytest
import torch

from condiff.core.analytic import AnalyticDenoiser, GaussianMixture
from condiff.core.processes import CondOTProcess, VPProcess
from condiff.core.sampling import sample
from condiff.core.search import beam_search, best_of_n, rollover_budget_forcing, smc

MEANS = torch.tensor([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]], dtype=torch.float64)
MIXTURE = GaussianMixture(MEANS, torch.stack([0.3 * torch.eye(2)] * 3).double(), torch.tensor([0.6, 0.3, 0.1]))
TARGET = torch.tensor([0.0, 2.5], dtype=torch.float64)
PROCESSES = {"vp": VPProcess("cosine"), "flow": CondOTProcess()}
STEPS, K, B = 10, 4, 64


def reward(x0: torch.Tensor) -> torch.Tensor:
    """Negative squared distance to the rarest mode (weight 0.1)."""
    return -(x0 - TARGET.to(x0.dtype)).square().sum(-1)


class Counting:
    """A denoiser that counts the states it evaluates."""

    def __init__(self, process) -> None:
        self.inner, self.rows = AnalyticDenoiser(MIXTURE, process).x0_eps, 0

    def __call__(self, x: torch.Tensor, t: torch.Tensor):
        self.rows += x.shape[0]
        return self.inner(x, t)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_every_search_beats_plain_sampling_at_equal_nfe(name: str) -> None:
    process = PROCESSES[name]
    plain = sample(AnalyticDenoiser(MIXTURE, process).x0_eps, process, shape=(B, 2), steps=STEPS * K,
                   method="unipc", dtype=torch.float64, generator=_gen(0))  # fmt: skip
    baseline = float(reward(plain.x).mean())  # E_p[r] ~ -9.6 whatever the step count
    runs = {
        "best_of_n": best_of_n(
            Counting(process), process, reward, (B, 2), K, steps=STEPS, generator=_gen(1), dtype=torch.float64
        ),
        "smc": smc(Counting(process), process, reward, (B, 2), K, steps=STEPS, generator=_gen(1), dtype=torch.float64),
        "beam": beam_search(
            Counting(process), process, reward, (B, 2), K // 2, 2, steps=STEPS, generator=_gen(1), dtype=torch.float64
        ),
        "rbf": rollover_budget_forcing(
            Counting(process), process, reward, (B, 2), STEPS * K, steps=STEPS, generator=_gen(1), dtype=torch.float64
        ),
    }
    # measured (vp): plain -9.4; best-of-4 -4.4, SMC -1.3, beam -1.3, RBF -0.1 (flow: -9.3; -4.3, -1.4, -1.2, -0.1)
    for label, res in runs.items():
        assert res.nfe <= STEPS * K == plain.nfe, (label, res.nfe)
        assert float(res.reward.mean()) > baseline + 3.0, (label, float(res.reward.mean()), baseline)
        torch.testing.assert_close(res.reward, reward(res.x))
    assert float(runs["smc"].reward.mean()) > float(runs["best_of_n"].reward.mean())
    assert float(runs["rbf"].reward.mean()) > float(runs["best_of_n"].reward.mean())


def test_nfe_is_the_number_of_states_evaluated_per_output() -> None:
    process = PROCESSES["vp"]
    for fn, kwargs, want in (
        (best_of_n, {"n": 3}, 3 * STEPS),
        (smc, {"particles": 3}, 3 * STEPS),
        (beam_search, {"beams": 2, "children": 3}, 2 + 2 * 3 * (STEPS - 1)),
    ):
        den = Counting(process)
        res = fn(den, process, reward, (5, 2), steps=STEPS, generator=_gen(2), dtype=torch.float64, **kwargs)
        assert res.nfe == want == den.rows / 5, fn.__name__


@pytest.mark.parametrize(("budget", "steps"), [(5, 5), (12, 5), (31, 7), (100, 10)])
def test_rollover_budget_forcing_never_exceeds_its_budget(budget: int, steps: int) -> None:
    process = PROCESSES["flow"]
    for seed in range(6):
        direction = torch.randn(2, generator=_gen(100 + seed), dtype=torch.float64)
        den = Counting(process)

        def linear_reward(x: torch.Tensor, d: torch.Tensor = direction) -> torch.Tensor:
            return x @ d.to(x.dtype)

        res = rollover_budget_forcing(den, process, linear_reward, (1, 2), budget, steps=steps, generator=_gen(seed),
                                      dtype=torch.float64)  # fmt: skip
        assert den.rows == res.nfe <= budget, (den.rows, budget)
    with pytest.raises(ValueError, match="budget >= steps"):
        rollover_budget_forcing(Counting(process), process, reward, (1, 2), 3, steps=5)


def test_smc_with_a_flat_reward_samples_the_model() -> None:
    """Zero reward: no resampling, SMC is ancestral sampling; mode weights match the mixture's."""
    process = PROCESSES["vp"]
    res = smc(Counting(process), process, lambda x: torch.zeros(x.shape[0], dtype=x.dtype), (1000, 2), 1,
              steps=50, generator=_gen(3), dtype=torch.float64)  # fmt: skip
    modes = torch.bincount(torch.cdist(res.x, MEANS).argmin(1), minlength=3) / 1000
    assert (modes - torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64)).abs().max() < 0.05


def test_bad_rewards_are_named() -> None:
    process = PROCESSES["vp"]
    with pytest.raises(ValueError, match="one value per sample"):
        best_of_n(Counting(process), process, lambda x: x, (2, 2), 2, steps=3)
    with pytest.raises(ValueError, match="NaN or inf"):
        smc(Counting(process), process, lambda x: torch.full((x.shape[0],), float("nan")), (2, 2), 2, steps=3)
