"""Fixtures of the discrete-diffusion tests: the exact toy law, and one torch thread (restored afterwards).

The tensors here are small: on the shared 2-core machine two threads spend their time synchronising
(the exact-guidance sampling test took 40 s with two threads under load, 3 s with one).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from tests.core.discrete.toy import ToyLaw, make_law


@pytest.fixture(autouse=True)
def single_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def toy_law() -> ToyLaw:
    return make_law(vocab_size=3, length=2, seed=0)
