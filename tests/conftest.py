"""Test-wide settings: fixed thread count, offline wandb, a private cache folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

THREADS = 2


def pytest_configure(config: pytest.Config) -> None:
    torch.set_num_threads(THREADS)
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ.setdefault("WANDB_SILENT", "true")
    os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder shared by the session (the digits classifier is trained once into it)."""
    return tmp_path_factory.mktemp("condiff-cache")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
