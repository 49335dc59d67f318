"""condiff-evaluate's inputs: exactly one of a samples file or a generated folder, each with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from condiff.core.cli.evaluate import evaluate, read_samples
from condiff.core.errors import DataValidationError


def _cfg(**kw: object):  # type: ignore[no-untyped-def]
    base = {"samples": None, "export_dir": None, "generated_dir": None, "gt_dir": None, "input_dir": None,
            "threads": None, "logger": None}  # fmt: skip
    return OmegaConf.create({**base, **kw})


def test_exactly_one_input(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="exactly one of samples="):
        evaluate(_cfg())
    with pytest.raises(DataValidationError, match="exactly one of samples="):
        evaluate(_cfg(samples=str(tmp_path / "s.safetensors"), generated_dir=str(tmp_path)))
    with pytest.raises(DataValidationError, match="'export_dir' is missing"):
        evaluate(_cfg(generated_dir=str(tmp_path), gt_dir=str(tmp_path)))


def test_unreadable_samples_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "samples.safetensors"
    bad.write_bytes(b"not safetensors")
    with pytest.raises(DataValidationError, match=r"samples\.safetensors: not a readable safetensors"):
        read_samples(bad)
    with pytest.raises(DataValidationError, match="samples file not found"):
        read_samples(tmp_path / "missing.safetensors")
