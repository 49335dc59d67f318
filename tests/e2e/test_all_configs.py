"""Every task and experiment config of every package composes, and its data, network and process work together."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from condiff.core.config import validate_train_config
from condiff.core.config_path import core_config_dir
from condiff.core.training.run import build_module

CONFIGS = core_config_dir()
assert CONFIGS is not None
EXPERIMENTS = sorted(
    str(p.relative_to(CONFIGS / "experiment").with_suffix("")) for p in (CONFIGS / "experiment").rglob("*.yaml")
)
TASKS = sorted(str(p.relative_to(CONFIGS / "task").with_suffix("")) for p in (CONFIGS / "task").rglob("*.yaml"))


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        return compose("train", overrides=["paths.output_dir=/tmp/unused", *overrides])


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_composes_and_one_training_batch_runs(experiment: str) -> None:
    torch.set_num_threads(2)
    cfg = _compose(f"experiment={experiment}", "task.datamodule.batch_size=2")
    validate_train_config(cfg)
    module = build_module(cfg)
    dm = instantiate(cfg.task.datamodule)
    if hasattr(dm, "crop"):
        dm.crop = 32  # keep the forward pass small; the configs' own sizes are for real training
    batch = next(iter(dm.train_dataloader()))
    loss = module._loss(batch)
    assert torch.isfinite(loss), experiment
    assert module.process.__class__.__name__ == instantiate(cfg.sde).__class__.__name__


@pytest.mark.parametrize("task", TASKS)
def test_task_composes_with_its_name(task: str) -> None:
    cfg = _compose(f"task={task}")
    assert cfg.task.name == Path(task).name


SAMPLERS = sorted(p.stem for p in (CONFIGS / "sampler").glob("*.yaml"))


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_every_sampler_config_runs_on_the_quickstart_model(sampler: str) -> None:
    from condiff.core.config import sampler_options
    from condiff.core.sampling import ModelDenoiser, sample

    cfg = _compose("experiment=quickstart", f"sampler={sampler}", "sampler.steps=3")
    validate_train_config(cfg)
    module = build_module(cfg)
    opts = sampler_options(cfg)
    guidance = opts.pop("guidance")
    den = ModelDenoiser(module.ema_network, module.process, module.parameterization,
                        cond={"labels": torch.arange(4)}, guidance=guidance)  # fmt: skip
    res = sample(den, module.process, shape=(4, 1, 8, 8), generator=torch.Generator().manual_seed(0), **opts)
    assert bool(torch.isfinite(res.x).all()), sampler
