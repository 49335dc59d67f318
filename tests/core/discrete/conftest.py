"""Fixtures of the discrete-diffusion tests."""

from __future__ import annotations

import pytest

from tests.core.discrete.toy import ToyLaw, make_law


@pytest.fixture
def toy_law() -> ToyLaw:
    return make_law(vocab_size=3, length=2, seed=0)
