"""Checkpoint I/O: refuse code-running pickles, name the path of torn files, write atomically."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import torch

from condiff.core.checkpoint import AtomicCheckpointIO, safe_torch_load
from condiff.core.errors import CheckpointError
from condiff.core.export import export_model, load_exported_config, load_exported_weights


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "payload": _RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match=re.escape(str(path))):
        safe_torch_load(path)
    with pytest.raises(CheckpointError, match=r"refused"):
        AtomicCheckpointIO().load_checkpoint(path)
    assert not marker.exists()


def test_truncated_empty_missing_and_foreign_files_name_the_path(tmp_path: Path) -> None:
    good = tmp_path / "good.ckpt"
    AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.randn(100, 100)}, "global_step": 3}, good)
    assert AtomicCheckpointIO().load_checkpoint(good)["global_step"] == 3
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"truncated\.ckpt.*(truncated|corrupt)"):
        AtomicCheckpointIO().load_checkpoint(truncated)
    empty = tmp_path / "empty.ckpt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"empty\.ckpt: checkpoint file is empty"):
        safe_torch_load(empty)
    with pytest.raises(CheckpointError, match=r"missing\.ckpt: checkpoint file not found"):
        safe_torch_load(tmp_path / "missing.ckpt")
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match=r"foreign\.ckpt: not a Lightning checkpoint"):
        AtomicCheckpointIO().load_checkpoint(foreign)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.ckpt", "foreign.ckpt", "good.ckpt", "truncated.ckpt"]


def test_export_round_trip_and_corrupt_weights(tmp_path: Path) -> None:
    net = torch.nn.Linear(4, 3)
    export_model(net, {"task": {"name": "x"}}, tmp_path / "export")
    assert load_exported_config(tmp_path / "export").task.name == "x"
    other = load_exported_weights(torch.nn.Linear(4, 3), tmp_path / "export")
    assert torch.equal(other.weight, net.weight)
    with pytest.raises(CheckpointError, match=r"do not match"):
        load_exported_weights(torch.nn.Linear(5, 3), tmp_path / "export")
    weights = tmp_path / "export" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:40])
    with pytest.raises(CheckpointError, match=r"model\.safetensors: truncated or corrupt"):
        load_exported_weights(torch.nn.Linear(4, 3), tmp_path / "export")
