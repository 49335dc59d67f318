"""Unconditional-generation scores separate real data from obviously wrong data and agree on real vs real."""

from __future__ import annotations

import math

import pytest
import torch

from condiff.molecules.geotdm import Systems
from condiff.molecules.geotdm.nbody import NBodyConfig, simulate_systems
from condiff.molecules.geotdm.scores import classification_score, marginal_score, prediction_score


def _real(seed: int, n: int = 48) -> Systems:
    traj = simulate_systems(n, NBodyConfig(num_frames=8, sample_every=50), seed=seed)
    x = traj.positions.float()
    x = x - x.mean(dim=(1, 2), keepdim=True)  # centred, as unconditional samples are
    return Systems(x.reshape(-1, 8, 3), torch.arange(n).repeat_interleave(5), traj.charges.float().reshape(-1, 1))


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_marginal_score() -> None:
    a, b = _real(0), _real(1)
    assert marginal_score(a.x, a.x) == 0.0
    same = marginal_score(a.x, b.x)
    shifted = marginal_score(a.x, b.x + 2.0)
    print(f"marginal score: same distribution {same:.3f}, shifted by 2 {shifted:.3f}")
    assert shifted > 3 * same


def test_classification_score_separates_noise_from_data() -> None:
    a, b = _real(0), _real(1)
    noise = b.with_x(torch.randn(b.x.shape, generator=torch.Generator().manual_seed(0)))
    real_vs_real = classification_score(a, b, steps=60)
    real_vs_noise = classification_score(a, noise, steps=60)
    print(f"BCE real vs real {real_vs_real:.3f}, real vs noise {real_vs_noise:.3f}")
    assert real_vs_noise < 0.3
    assert real_vs_real > 0.5 * math.log(2)


def test_prediction_score_is_lower_when_trained_on_real_data() -> None:
    a, b = _real(0), _real(1)
    noise = b.with_x(torch.randn(b.x.shape, generator=torch.Generator().manual_seed(0)))
    from_real = prediction_score(a, b, given=4, steps=30)
    from_noise = prediction_score(a, noise, given=4, steps=30)
    print(f"MSE trained on real {from_real:.4f}, on noise {from_noise:.4f}")
    assert from_real < 0.5 * from_noise
