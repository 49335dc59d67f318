"""Tests here use tensors of a few hundred numbers: one torch thread (restored afterwards).

Measured on the shared 2-core machine: RED-Diff's 1000 steps take 1.2 s with one thread and 8 s
with two, which spend their time synchronising.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
