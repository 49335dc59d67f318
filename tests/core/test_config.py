"""Configs: every group composes, bad keys and values are named, the CLI reports them in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from condiff.core.config import validate_train_config
from condiff.core.config_path import core_config_dir
from condiff.core.errors import ConfigError
from tests.e2e.cli import run_cli


def _compose(*overrides: str, name: str = "train", hydra_cfg: bool = False):
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        return compose(name, overrides=["paths.output_dir=/tmp/x", *overrides], return_hydra_config=hydra_cfg)


@pytest.mark.parametrize("trainer", ["cpu", "gpu", "ddp", "fsdp", "ddp_cpu"])
@pytest.mark.parametrize("logger", ["wandb", "csv", "none"])
def test_every_trainer_and_logger_composes(trainer: str, logger: str) -> None:
    cfg = _compose("experiment=quickstart", f"trainer={trainer}", f"logger={logger}")
    validate_train_config(cfg)
    assert cfg.trainer._target_ == "lightning.Trainer"
    if trainer in ("gpu", "ddp", "fsdp"):
        assert cfg.trainer.precision == "bf16-mixed"
    if trainer == "ddp_cpu":
        assert cfg.trainer.devices == 2
        assert cfg.trainer.strategy.process_group_backend == "gloo"


def test_slurm_launcher_uses_submitit() -> None:
    cfg = _compose("launcher=submitit_slurm", "trainer=ddp", "trainer.num_nodes=4", hydra_cfg=True)
    assert "submitit" in cfg.hydra.launcher._target_.lower()
    assert OmegaConf.select(cfg, "hydra.launcher.nodes") == 4


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("sampler.steps=0", "sampler.steps"),
        ("module.lr=-1", "module.lr"),
        ("trainer.max_steps=abc", "trainer.max_steps"),
        ("sampler.method=nope", "sampler.method"),
        ("module.ema_decay=1.5", "module.ema_decay"),
        ("param=x0", None),
    ],
)
def test_bad_values_raise_config_error_naming_the_key(override: str, key: str | None) -> None:
    cfg = _compose("experiment=quickstart", override)
    if key is None:
        validate_train_config(cfg)  # a valid override passes
        return
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate_train_config(cfg)


def test_unknown_keys_are_refused_naming_the_key() -> None:
    with pytest.raises(ConfigCompositionException, match=r"module\.lrr"):
        _compose("experiment=quickstart", "module.lrr=1")
    with pytest.raises(ConfigCompositionException, match="nope"):
        _compose("task=core/nope")


def test_cli_reports_a_bad_value_in_one_line_with_exit_code_2(tmp_path: Path) -> None:
    proc = run_cli(
        "condiff-train",
        "experiment=quickstart",
        "sampler.steps=0",
        "logger=none",
        cwd=tmp_path,
        env={"CONDIFF_LOG_DIR": str(tmp_path)},
        check=False,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "ConfigError: config key 'sampler.steps' has a bad value 0" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("condiff-train", "experiment=quickstart", "module.lrr=1", cwd=tmp_path, check=False, timeout=120)
    assert proc.returncode != 0
    assert "module.lrr" in proc.stderr


def test_resume_from_a_truncated_checkpoint_names_it(tmp_path: Path) -> None:
    ckpt = tmp_path / "digits" / "broken" / "checkpoints" / "last.ckpt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"PK\x03\x04 not really a checkpoint")
    proc = run_cli(
        "condiff-train",
        "experiment=quickstart",
        "run_name=broken",
        "logger=none",
        "trainer.max_steps=5",
        cwd=tmp_path,
        env={"CONDIFF_LOG_DIR": str(tmp_path)},
        check=False,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"CheckpointError: {ckpt}" in proc.stderr
    assert ckpt.read_bytes() == b"PK\x03\x04 not really a checkpoint"  # nothing written over it
