"""GDSS's score-matching loss: zero at the exact noise, blind to padded entries, 0.5 * sum per graph."""

from __future__ import annotations

import pytest
import torch

from condiff.core.processes import VPProcess
from condiff.molecules.gdss.loss import GraphScoreMatchingLoss
from condiff.molecules.gdss.process import graph_process


def test_loss_is_zero_at_the_true_noise_and_half_sum_of_squares_otherwise() -> None:
    proc = graph_process(VPProcess(beta_min=0.1, beta_max=1.0), VPProcess(beta_min=0.1, beta_max=1.0))
    flags = torch.tensor([[1.0, 1.0, 0.0]])
    x0, a0 = torch.zeros(1, 3, 2), torch.zeros(1, 3, 3)
    ex, ea = torch.randn(1, 3, 2), torch.randn(1, 3, 3)
    t = torch.tensor([0.5])
    loss = GraphScoreMatchingLoss()
    exact = loss(proc, "eps", (ex, ea), (x0, a0), (ex, ea), t, flags)
    assert float(exact) == 0.0
    off = loss(proc, "eps", (ex + 1.0, ea), (x0, a0), (ex, ea), t, flags)
    assert float(off) == pytest.approx(0.5 * 4)  # 2 real nodes x 2 features, padded node ignored
    off_a = loss(proc, "eps", (ex, ea + 1.0), (x0, a0), (ex, ea), t, flags)
    assert float(off_a) == pytest.approx(0.5 * 4)  # the 2 x 2 block of real nodes (diagonal included, as GDSS)
