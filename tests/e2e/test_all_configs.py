"""Every task and experiment config of every package composes, and its data, network and process work together."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from condiff.core.config import instantiate_node, validate_train_config
from condiff.core.config_path import core_config_dir
from condiff.core.errors import ConfigError
from condiff.core.training.run import build_module, has_own_module

CONFIGS = core_config_dir()
assert CONFIGS is not None
EXPERIMENTS = sorted(
    str(p.relative_to(CONFIGS / "experiment").with_suffix("")) for p in (CONFIGS / "experiment").rglob("*.yaml")
)
TASKS = sorted(str(p.relative_to(CONFIGS / "task").with_suffix("")) for p in (CONFIGS / "task").rglob("*.yaml"))


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        return compose("train", overrides=["paths.output_dir=/tmp/unused", *overrides])


# Experiments whose module is built from the exports of earlier stages (DRAKES fine-tuning): composed here, built
# and trained from real exports in tests/molecules/drakes/test_tasks.py.
NEEDS_EXPORTS = {"molecules/drakes_dna_finetune", "molecules/drakes_protein_finetune"}
# Experiments on the user's own data sets, which have no built-in stand-in: composed here, and the missing data
# key is named; their loaders are tested on small files the tests write (tests/medical/test_aapm.py).
NEEDS_USER_DATA = {"medical/ct_lowdose_aapm": "train_dir"}


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_composes_and_one_training_batch_runs(experiment: str) -> None:
    torch.set_num_threads(2)
    if experiment in NEEDS_EXPORTS:
        cfg = _compose(f"experiment={experiment}")
        validate_train_config(cfg)
        with pytest.raises(ConfigError, match="pretrained_export"):
            build_module(cfg)
        return
    if experiment in NEEDS_USER_DATA:
        cfg = _compose(f"experiment={experiment}")
        validate_train_config(cfg)
        build_module(cfg)
        with pytest.raises(ConfigError, match=NEEDS_USER_DATA[experiment]):
            instantiate_node(cfg, "task.datamodule")
        return
    cfg = _compose(f"experiment={experiment}", "task.datamodule.batch_size=2")
    if OmegaConf.select(cfg, "task.datamodule.num_train") is not None:
        cfg.task.datamodule.num_train = 8  # generated sets: a batch needs only a few
    validate_train_config(cfg)
    module = build_module(cfg)
    if has_own_module(cfg):  # a task's own Lightning module (e.g. masked discrete diffusion): its training step
        dm = instantiate(cfg.task.datamodule)
        dm.setup("fit")
        with warnings.catch_warnings():  # self.log outside a Trainer: only the step itself is under test
            warnings.filterwarnings("ignore", message=".*self.trainer. reference is not registered")
            loss = module.training_step(next(iter(dm.train_dataloader())), 0)
        assert torch.isfinite(loss), experiment
        return
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
