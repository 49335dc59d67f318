"""MONAI's DiffusionModelUNet as a condiff network: shapes in 2-D and 3-D, the condition, errors."""

from __future__ import annotations

import pytest
import torch

from condiff.medical.networks import MonaiConditionalUNet


@pytest.mark.parametrize("dims", [2, 3])
def test_shapes_and_condition(dims: int) -> None:
    torch.manual_seed(0)
    net = MonaiConditionalUNet(spatial_dims=dims, cond_channels=2, channels=(8, 16)).eval()
    with torch.no_grad():  # MONAI zero-initialises the output convolution: randomise to see the inputs' effect
        for p in net.parameters():
            p.normal_(0, 0.2)
    x = torch.randn(3, 1, *(8,) * dims)
    c = torch.randn(3, 2, *(8,) * dims)
    out = net(x, torch.rand(3), cond_image=c)
    assert out.shape == x.shape
    assert not torch.allclose(out, net(x, torch.rand(3), cond_image=c))  # the time embedding matters
    drop = torch.tensor([True, False, True])
    dropped = net(x, torch.full((3,), 0.5), cond_image=c, cond_drop=drop)
    zeroed = net(x, torch.full((3,), 0.5), cond_image=c * (~drop).float().reshape(3, 1, *(1,) * dims))
    torch.testing.assert_close(dropped, zeroed)
    assert net(x[:1], torch.tensor(0.5), cond_image=c[:1]).shape == x[:1].shape  # scalar t


def test_errors_name_the_expected_shape() -> None:
    net = MonaiConditionalUNet(cond_channels=1, channels=(8, 16))
    with pytest.raises(ValueError, match="expects"):
        net(torch.randn(2, 2, 8, 8), torch.rand(2), cond_image=torch.randn(2, 1, 8, 8))
    with pytest.raises(ValueError, match="divisible by 2"):
        net(torch.randn(2, 1, 7, 8), torch.rand(2), cond_image=torch.randn(2, 1, 7, 8))
    with pytest.raises(ValueError, match="needs cond_image"):
        net(torch.randn(2, 1, 8, 8), torch.rand(2))
    with pytest.raises(ValueError, match="norm_num_groups"):
        MonaiConditionalUNet(channels=(12, 16), norm_num_groups=8)
