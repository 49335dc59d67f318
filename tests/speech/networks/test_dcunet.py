"""DCUNet: its complex layers are complex convolutions, any input size comes back, the condition and time matter."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from condiff.speech.networks import DCUNet
from condiff.speech.networks.dcunet import ComplexConv2d


def _complex(h: torch.Tensor) -> torch.Tensor:
    real, imag = h.chunk(2, dim=1)
    return torch.complex(real, imag)


@pytest.mark.parametrize("transpose", [False, True])
def test_complex_conv_equals_torch_complex_convolution(transpose: bool) -> None:
    torch.manual_seed(0)
    conv = ComplexConv2d(3, 4, (5, 3), (2, 1), transpose=transpose).double()
    torch.nn.init.normal_(conv.bias)
    h = torch.randn(2, 6, 8, 7, dtype=torch.float64)
    w = torch.complex(conv.re.weight, conv.im.weight)
    b = torch.complex(*conv.bias.chunk(2))
    if transpose:
        ref = F.conv_transpose2d(_complex(h), w, b, stride=(2, 1), padding=(2, 1), output_padding=(1, 0))
    else:
        ref = F.conv2d(_complex(h), w, b, stride=(2, 1), padding=(2, 1))
    assert torch.allclose(_complex(conv(h)), ref, atol=1e-12)


def test_paper_dcunet10_shape_contract() -> None:
    net = DCUNet()  # DCUNet-10: 5 levels of 45 / 90 complex channels
    assert net.multiple == (32, 4)
    x, y = torch.randn(1, 2, 256, 16), torch.randn(1, 2, 256, 16)
    assert net(x, torch.tensor([0.5]), cond_spec=y).shape == x.shape


@pytest.mark.parametrize("frames", [8, 13])
def test_any_size_in_same_size_out_and_the_inputs_matter(frames: int) -> None:
    torch.manual_seed(0)
    net = DCUNet(channels=(4, 8), kernels=((5, 3), (3, 3)), strides=((2, 2), (2, 1)), temb_dim=16)
    x, y = torch.randn(2, 2, 12, frames), torch.randn(2, 2, 12, frames)
    t = torch.tensor([0.1, 0.9])
    out = net(x, t, cond_spec=y)
    assert out.shape == x.shape
    assert not torch.allclose(out, net(x, t, cond_spec=torch.zeros_like(y)))
    assert not torch.allclose(out[0], net(x, t.flip(0), cond_spec=y)[0])
    assert torch.allclose(net(x[:1], t[:1], cond_spec=y[:1]), out[:1], atol=1e-5)  # no mixing across the batch


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="cond_spec"):
        DCUNet()(torch.randn(1, 2, 32, 8), torch.tensor([0.5]))
    with pytest.raises(ValueError, match="one entry per level"):
        DCUNet(channels=(4,), kernels=((3, 3), (3, 3)), strides=((2, 2),))
    with pytest.raises(ValueError, match="time_input"):
        DCUNet(time_input="sigma")


def test_paper_size() -> None:
    assert 2.9e6 < sum(p.numel() for p in DCUNet().parameters()) < 3.2e6  # DCUNet-10: 3.03 M real parameters


def test_a_tiny_dcunet_fits_a_denoising_batch() -> None:
    """50 Adam steps on one batch: the x0 error of a denoising map falls below half of the initial one (measured
    1.48 -> 0.16), so gradients reach every complex layer."""
    torch.manual_seed(0)
    net = DCUNet(channels=(4, 8), kernels=((5, 3), (3, 3)), strides=((2, 2), (2, 1)), temb_dim=16)
    clean = torch.randn(4, 2, 16, 8)
    noisy = clean + 0.5 * torch.randn_like(clean)
    t = torch.full((4,), 0.5)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    first = None
    for _ in range(50):
        loss = (net(noisy, t, cond_spec=noisy) - clean).square().mean()
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.5 * first
