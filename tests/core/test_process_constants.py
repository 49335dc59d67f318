"""Process constants: stored with a model, compared exactly, and any disagreement is an error naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from condiff.core.config_path import core_config_dir
from condiff.core.errors import ConfigError
from condiff.core.processes import DiscreteVPProcess, MeanRevertingProcess, ProductProcess, VEProcess, VPProcess
from condiff.core.processes.constants import check_process_constants, process_constants
from condiff.core.training.run import build_module


def test_constants_name_the_class_scalars_and_tables() -> None:
    c = process_constants(MeanRevertingProcess(sigma_inf=0.1, schedule="linear"))
    assert c == {"class": "MeanRevertingProcess", "T": 1.0, "end_value": 0.01, "schedule": "linear",
                 "sigma_inf": 0.1, "t_min": 0.001}  # fmt: skip
    a = process_constants(DiscreteVPProcess(betas=torch.linspace(1e-4, 0.02, 1000)))
    b = process_constants(DiscreteVPProcess(betas=torch.linspace(1e-4, 0.021, 1000)))
    assert a != b  # the table itself is part of the constants (hashed)
    product = process_constants(ProductProcess([VPProcess(), VEProcess()]))
    assert [p["class"] for p in product["processes"]] == ["VPProcess", "VEProcess"]


def test_check_accepts_equal_processes_and_names_every_differing_key() -> None:
    stored = process_constants(MeanRevertingProcess(sigma_inf=0.1))
    check_process_constants(stored, MeanRevertingProcess(sigma_inf=0.1), "model.safetensors")
    with pytest.raises(ConfigError, match=r"sde\.sigma_inf=0\.2 \(trained: 0\.1\).*sde\.t_min=0\.01") as err:
        check_process_constants(stored, MeanRevertingProcess(sigma_inf=0.2, t_min=0.01), "model.safetensors")
    assert "model.safetensors" in str(err.value)
    with pytest.raises(ConfigError, match=r"sde\.class='VPProcess'"):
        check_process_constants(stored, VPProcess(), "x")


def _module(tmp_path: Path, *overrides: str):
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=[f"paths.output_dir={tmp_path}", "experiment=quickstart", *overrides])
    return build_module(cfg)


def test_a_training_checkpoint_refuses_to_resume_with_another_process(tmp_path: Path) -> None:
    ckpt: dict = {}
    _module(tmp_path).on_save_checkpoint(ckpt)
    assert ckpt["condiff_process"]["class"] == "VPProcess"
    ckpt["state_dict"] = {"ema_network.w": torch.zeros(1)}
    _module(tmp_path).on_load_checkpoint(ckpt)  # same process: resumes
    with pytest.raises(ConfigError, match=r"sde\.beta_max=10\.0 \(trained: 20\.0\)"):
        _module(tmp_path, "sde.beta_max=10.0").on_load_checkpoint(ckpt)
