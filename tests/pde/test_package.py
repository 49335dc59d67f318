"""The package's version and its `condiff.configs` entry point."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import condiff.pde


def test_version_matches_pyproject(repo_root: Path) -> None:
    meta = tomllib.loads((repo_root / "packages" / "pde" / "pyproject.toml").read_text())
    assert condiff.pde.__version__ == meta["project"]["version"]


def test_config_entry_point_resolves_to_the_repository_configs(repo_root: Path) -> None:
    (ep,) = [e for e in entry_points(group="condiff.configs") if e.name == "pde"]
    assert ep.load()() == repo_root / "configs"
