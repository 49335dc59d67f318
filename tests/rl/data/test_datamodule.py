"""Windows, conditions, splits and config errors of the trajectory data module."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from condiff.core.errors import ConfigError
from condiff.rl.data import TrajectoryDataModule
from condiff.rl.data.windows import return_windows
from tests.rl.data.test_d4rl import _dataset


def test_maze_batches_have_states_returns_and_goals(cache_dir: Path) -> None:
    dm = TrajectoryDataModule(
        "pointmaze_umaze", num_steps=5000, horizon=16, stride=4, batch_size=8, cache_dir=cache_dir
    )
    batch = next(iter(dm.train_dataloader()))
    assert batch["x0"].shape == (8, 4, 16)
    assert batch["cond"]["returns"].shape == (8, 1)
    assert batch["cond"]["goal"].shape == (8, 2)
    torch.testing.assert_close(batch["cond"]["start"], batch["x0"][:, :, 0])  # the clean current state
    assert torch.isfinite(batch["x0"]).all()
    lo, hi = dm.state_bounds  # the normalised range of the training states (the planner's x0 clip)
    np.testing.assert_allclose(lo, dm.norm(dm.train_data.observations).min(0), atol=1e-5)
    np.testing.assert_allclose(hi, dm.norm(dm.train_data.observations).max(0), atol=1e-5)
    # held-out episodes are disjoint from the training ones
    assert len(dm.train_data) + len(dm.val_data) == len(dm.data)  # type: ignore[arg-type]
    sb = next(dm.sampling_batches(3, 3))
    assert sb["shape"] == (3, 4, 16)
    assert torch.equal(sb["cond"]["returns"], torch.ones(3, 1))
    assert sb["cond"]["start"].shape == (3, 4)


def test_return_to_go_is_discounted_and_scaled() -> None:
    ds = _dataset(goals=False)
    w = return_windows(ds, horizon=4, stride=1, discount=0.5)
    first = ds.rewards[0] + 0.5 * ds.rewards[1] + 0.25 * ds.rewards[2]
    assert w.states.shape == (len(w.returns), 4, 4)
    assert w.returns.min() >= 0.0
    assert w.returns.max() <= 1.0
    # windows never cross an episode boundary (episode 0 has 20 steps: 17 windows of 4)
    assert len(w.returns) == 17 + 27
    assert np.isfinite(first)


def test_bad_config_values_name_the_key(cache_dir: Path) -> None:
    with pytest.raises(ConfigError, match="horizon"):
        TrajectoryDataModule("pointmaze_umaze", horizon=30, cache_dir=cache_dir)
    with pytest.raises(ConfigError, match="val_fraction"):
        TrajectoryDataModule("pointmaze_umaze", val_fraction=1.5, cache_dir=cache_dir)
    with pytest.raises(ConfigError, match="source"):
        TrajectoryDataModule("hopper", source="hub", cache_dir=cache_dir).prepare()
    with pytest.raises(ConfigError, match="path"):
        TrajectoryDataModule("hopper", source="d4rl", cache_dir=cache_dir).prepare()
