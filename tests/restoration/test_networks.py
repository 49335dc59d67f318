"""NAFNet: shapes, time and condition reach the output, and it learns to denoise in a few steps."""

from __future__ import annotations

import pytest
import torch

from condiff.restoration.data import RestorationDataModule
from condiff.restoration.metrics import psnr
from condiff.restoration.networks import ConditionalNAFNet, SharedEncoderTwoHeads

torch.set_num_threads(2)


def test_nafnet_shapes_and_dependence_on_time_and_condition() -> None:
    torch.manual_seed(0)
    net = ConditionalNAFNet(width=8, enc_blocks=(1, 1), dec_blocks=(1, 1))
    for p in net.parameters():  # the residual scales start at zero; randomise to see every path
        torch.nn.init.normal_(p, std=0.1)
    x, y, t = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16), torch.full((2,), 0.3)
    out = net(x, t, cond_image=y)
    assert out.shape == x.shape
    assert not torch.allclose(out, net(x, torch.full((2,), 0.8), cond_image=y))
    assert not torch.allclose(out, net(x, t, cond_image=-y))
    two = SharedEncoderTwoHeads(ConditionalNAFNet(width=8, out_channels=6, enc_blocks=(1,), dec_blocks=(1,)))
    res, eps = two(x, t, cond_image=y)
    assert res.shape == eps.shape == x.shape
    with pytest.raises(ValueError, match="divisible"):
        net(torch.randn(1, 3, 10, 10), t[:1], cond_image=torch.randn(1, 3, 10, 10))
    with pytest.raises(ValueError, match="cond_image"):
        net(x, t)


def test_nafnet_learns_to_denoise_held_out_tiles() -> None:
    torch.manual_seed(0)
    dm = RestorationDataModule("denoise", crop=32, batch_size=8, train_length=800, val_items=16)
    net = ConditionalNAFNet(width=16, enc_blocks=(1, 1), dec_blocks=(1, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3)
    for i, batch in enumerate(dm.train_dataloader()):
        if i == 150:
            break
        # Direct x0 regression from the noisy image at one fixed time: the backbone alone must learn.
        pred = net(batch["y"], torch.zeros(8), cond_image=batch["y"])
        loss = (pred - batch["x0"]).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    val = next(dm.sampling_batches(16, 16))
    with torch.no_grad():
        pred = net(val["y"], torch.zeros(16), cond_image=val["y"])
    restored = psnr((pred + 1) / 2, (val["reference"] + 1) / 2).mean().item()
    noisy = psnr((val["y"] + 1) / 2, (val["reference"] + 1) / 2).mean().item()
    assert restored > noisy + 2.0, (restored, noisy)
