"""Built-in locomotion data: the ARS behaviour policy and its rollouts."""

from __future__ import annotations

import numpy as np

from condiff.rl.data.locomotion import LinearPolicy, generate_locomotion, train_ars


def test_running_statistics_match_numpy() -> None:
    rng = np.random.default_rng(0)
    pol = LinearPolicy(np.zeros((1, 3)))
    a, b = rng.standard_normal((50, 3)) * 2 + 1, rng.standard_normal((70, 3))
    pol.update_stats(a)
    pol.update_stats(b)
    both = np.concatenate([a, b])
    np.testing.assert_allclose(pol.mean, both.mean(0), atol=1e-4)
    np.testing.assert_allclose(pol.var, both.var(0), atol=1e-3)


def test_ars_improves_hopper_and_data_has_valid_episodes() -> None:
    _, history = train_ars("hopper", iterations=6, directions=4, top=2, episode_steps=200, seed=0)
    assert max(history[-2:]) > history[0]
    ds = generate_locomotion("hopper", 600, seed=0, iterations=2)
    assert ds.observations.shape == (600, 11)
    assert ds.actions.shape == (600, 3)
    assert np.abs(ds.actions).max() <= 1.0
    ends = ds.terminals | ds.timeouts
    assert ends[-1]
    assert ends.sum() >= 1
