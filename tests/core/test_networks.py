"""Backbones: shapes, conditioning and classifier-free-guidance dropout actually change the output."""

from __future__ import annotations

import pytest
import torch

from condiff.core.networks import ConditionalMLP, ConditionalUNet
from condiff.core.networks.unet import SelfAttention


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


def test_self_attention_is_softmax_attention_over_positions() -> None:
    torch.manual_seed(0)
    attn = SelfAttention(8, heads=2)
    torch.nn.init.normal_(attn.proj.weight, std=0.3)
    x = torch.randn(2, 8, 3, 5)
    q, k, v = attn.qkv(attn.norm(x)).reshape(2, 3, 2, 4, 15).unbind(1)  # (B, heads, C/heads, HW)
    weights = torch.softmax(q.transpose(-1, -2) @ k / 2.0, dim=-1)  # scale 1/sqrt(C/heads)
    naive = (weights @ v.transpose(-1, -2)).transpose(-1, -2).reshape(2, 8, 3, 5)
    torch.testing.assert_close(attn(x), x + attn.proj(naive), rtol=1e-5, atol=1e-5)


def test_attention_blocks_start_as_the_identity_and_then_act() -> None:
    """With the same ResBlock weights, a UNet with attention computes the plain UNet's function until its
    zero-initialised attention projections move; depth 2 per level."""
    torch.manual_seed(0)
    kwargs = {"base_channels": 8, "channel_mults": (1, 2), "num_res_blocks": 2}
    plain = ConditionalUNet(1, **kwargs)
    attn = ConditionalUNet(1, **kwargs, attention_levels=[1], mid_attention=True, attention_heads=2)
    for p in plain.parameters():
        torch.nn.init.normal_(p, std=0.2)
    missing, unexpected = attn.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected
    assert missing
    assert all(".attn." in k for k in missing)
    x, t = torch.randn(2, 1, 8, 8), torch.full((2,), 0.5)
    torch.testing.assert_close(attn(x, t), plain(x, t))
    torch.nn.init.normal_(attn.mid.attn.proj.weight, std=0.2)  # type: ignore[union-attr]
    assert not torch.allclose(attn(x, t), plain(x, t))
    assert len(attn.down[0]) == 2
    with pytest.raises(ValueError, match="attention_levels"):
        ConditionalUNet(1, channel_mults=(1, 2), attention_levels=[2])
