"""NCSN++: the paper's size, shapes for any input size, conditioning on the noisy spectrogram."""

from __future__ import annotations

import pytest
import torch

from condiff.speech.networks import NCSNpp


def _tiny() -> NCSNpp:
    torch.manual_seed(0)
    return NCSNpp(channels=8, channel_mults=(1, 2), num_res_blocks=1, attn_levels=(1,))


def test_paper_size() -> None:
    n = NCSNpp()  # 128 channels, multipliers (1, 1, 2, 2, 2, 2, 2), 2 blocks, attention at 16 bins
    assert 64e6 < sum(p.numel() for p in n.parameters()) < 67e6  # SGMSE+ reports 65 M
    assert n.multiple == 64


@pytest.mark.parametrize("frames", [8, 13])
def test_any_size_in_same_size_out_and_the_condition_matters(frames: int) -> None:
    net = _tiny()
    for p in net.parameters():  # move off the zero-initialised output so the output depends on inputs
        p.data += 0.05 * torch.randn_like(p)
    x, y = torch.randn(2, 2, 12, frames), torch.randn(2, 2, 12, frames)
    t = torch.tensor([0.1, 0.9])
    out = net(x, t, cond_spec=y)
    assert out.shape == x.shape
    assert not torch.allclose(out, net(x, t, cond_spec=torch.zeros_like(y)))
    assert not torch.allclose(out[0], net(x, t.flip(0), cond_spec=y)[0])
    # items are independent: the batch does not mix
    assert torch.allclose(net(x[:1], t[:1], cond_spec=y[:1]), out[:1], atol=1e-5)


def test_bad_condition_is_rejected() -> None:
    with pytest.raises(ValueError, match="cond_spec"):
        _tiny()(torch.randn(1, 2, 8, 8), torch.tensor([0.5]))
    with pytest.raises(ValueError, match="time_input"):
        NCSNpp(time_input="sigma")


def test_edm_preconditioning_uses_the_noisy_spectrogram_as_y() -> None:
    from condiff.core.preconditioning import edm_coefficients
    from condiff.speech.networks import SpeechEDMPreconditioner
    from condiff.speech.process import SGMSEOUVEProcess

    p = SGMSEOUVEProcess()
    torch.manual_seed(0)
    net = SpeechEDMPreconditioner(p, sigma_data=0.1, channels=8, channel_mults=(1, 2), num_res_blocks=1, attn_levels=())
    x, y, t = torch.randn(2, 2, 8, 8), torch.randn(2, 2, 8, 8), torch.tensor([0.2, 0.8])
    c = p.coefficients64(t)
    a, b = c.a.float().view(-1, 1, 1, 1), c.b.float().view(-1, 1, 1, 1)
    xs = (x - b * y) / a
    c_skip, c_out, c_in, _ = (v.float().view(-1, 1, 1, 1) for v in edm_coefficients(c.s / c.a, 0.1))
    expected = c_skip * xs + c_out * net.network(c_in * xs, t, cond_spec=y)
    assert torch.allclose(net(x, t, cond_spec=y), expected, atol=1e-5)
