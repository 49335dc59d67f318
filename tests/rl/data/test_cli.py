"""``condiff-rl-data`` writes a D4RL file that the loader reads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from condiff.rl.data import load_d4rl_hdf5
from condiff.rl.data.cli import main


def test_generator_command_writes_a_d4rl_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "maze.hdf5"
    main(["pointmaze_umaze", "--num-steps", "300", "--seed", "2", "--out", str(out)])
    ds = load_d4rl_hdf5(out)
    assert len(ds) == 300
    assert ds.goals is not None
    assert "300 transitions" in capsys.readouterr().out
