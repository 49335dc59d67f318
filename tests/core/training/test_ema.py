from __future__ import annotations

import torch

from condiff.core.training import WarmupCosine, ema_decay_at, ema_update_
from condiff.core.training.module import _step_seed


def test_ema_update_matches_the_formula() -> None:
    torch.manual_seed(0)
    model, ema = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = [p.detach().clone() for p in ema.parameters()]
    ema_update_(ema, model, 0.9)
    for e, b, m in zip(ema.parameters(), before, model.parameters(), strict=True):
        assert torch.allclose(e, 0.9 * b + 0.1 * m)
    ema_update_(ema, model, 0.0)
    for e, m in zip(ema.parameters(), model.parameters(), strict=True):
        assert torch.equal(e, m)


def test_ema_decay_ramp() -> None:
    assert ema_decay_at(0, 0.999) == 0.1
    assert ema_decay_at(10, 0.999) == 11 / 20
    assert ema_decay_at(100000, 0.999) == 0.999
    assert ema_decay_at(5, 0.999, warmup=10) == 0.0


def test_warmup_cosine_values() -> None:
    f = WarmupCosine(warmup_steps=10, total_steps=110, min_ratio=0.1)
    assert f(0) == 0.1
    assert f(9) == 1.0
    assert f(10) == 1.0
    assert abs(f(60) - (0.1 + 0.9 * 0.5)) < 1e-12
    assert abs(f(110) - 0.1) < 1e-12
    assert abs(f(500) - 0.1) < 1e-12


def test_step_seed_differs_by_step_and_rank_and_is_stable() -> None:
    seeds = {_step_seed(0, s, r) for s in range(100) for r in range(4)}
    assert len(seeds) == 400
    assert _step_seed(3, 7, 1) == _step_seed(3, 7, 1)
    assert all(0 <= s < 2**63 for s in seeds)
