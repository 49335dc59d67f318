"""Backbones: shapes, conditioning and classifier-free-guidance dropout actually change the output."""

from __future__ import annotations

import pytest
import torch

from condiff.core.networks import ConditionalMLP, ConditionalUNet


@pytest.mark.parametrize(
    "net",
    [
        ConditionalMLP((1, 8, 8), width=32, depth=2, num_classes=10, emb_dim=16),
        ConditionalUNet(1, base_channels=8, channel_mults=(1, 2), num_classes=10),
    ],
    ids=["mlp", "unet"],
)
def test_labels_time_and_cond_drop_all_reach_the_output(net: torch.nn.Module) -> None:
    torch.manual_seed(0)
    for p in net.parameters():  # zero-initialised output layers would hide the dependence
        torch.nn.init.normal_(p, std=0.2)
    x = torch.randn(4, 1, 8, 8)
    t = torch.full((4,), 0.3)
    labels = torch.tensor([0, 1, 2, 3])
    out = net(x, t, labels)
    assert out.shape == x.shape
    assert not torch.allclose(out, net(x, t, torch.tensor([4, 5, 6, 7])))
    assert not torch.allclose(out, net(x, torch.full((4,), 0.7), labels))
    drop = torch.tensor([True, False, True, False])
    dropped = net(x, t, labels, cond_drop=drop)
    assert torch.allclose(dropped[~drop], out[~drop], atol=1e-6)
    assert torch.allclose(dropped[drop], net(x[drop], t[drop], None), atol=1e-6)


def test_bad_inputs_raise() -> None:
    mlp = ConditionalMLP((1, 8, 8), width=16, depth=1, num_classes=10, emb_dim=8)
    with pytest.raises(ValueError, match="shape"):
        mlp(torch.randn(2, 1, 4, 4), torch.rand(2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="labels"):
        mlp(torch.randn(2, 1, 8, 8), torch.rand(2), torch.tensor([0, 10]))
    unet = ConditionalUNet(1, base_channels=8, channel_mults=(1, 2))
    with pytest.raises(ValueError, match="divisible"):
        unet(torch.randn(1, 1, 7, 7), torch.rand(1))
