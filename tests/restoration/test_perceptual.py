"""LPIPS and FID from local weights only: real backbones with weights the test writes, never a download."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision

from condiff.core.errors import DataValidationError
from condiff.restoration.perceptual import LPIPS, FrechetDistance

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def alexnet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "alexnet.pth"
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), path)
    return path


def test_lpips_is_a_distance_that_grows_with_the_corruption(alexnet_file: Path) -> None:
    metric = LPIPS(alexnet_file)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 3, 64, 64, generator=g)
    noise = torch.randn(4, 3, 64, 64, generator=g)
    small, large = (x + 0.05 * noise).clamp(0, 1), (x + 0.3 * noise).clamp(0, 1)
    assert torch.allclose(metric(x, x), torch.zeros(4), atol=1e-6)
    d_small, d_large = metric(x, small), metric(x, large)
    assert bool((d_small > 0).all())
    assert bool((d_large > d_small).all()), (d_small, d_large)
    torch.testing.assert_close(metric(small, x), d_small)
    # The supplied backbone is the one used: other weights give other distances.
    other = alexnet_file.with_name("other.pth")
    torch.manual_seed(1)
    torch.save(torchvision.models.alexnet(weights=None).state_dict(), other)
    assert not torch.allclose(LPIPS(other)(x, large), d_large)


def test_lpips_and_fid_name_the_missing_or_wrong_file(alexnet_file: Path, tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"nope\.pth: torchvision alexnet weights not found"):
        LPIPS(tmp_path / "nope.pth")
    vgg = tmp_path / "vgg_as_alex.pth"
    torch.save({"features.0.weight": torch.zeros(3, 3, 3, 3)}, vgg)
    with pytest.raises(DataValidationError, match=r"vgg_as_alex\.pth: not a torchvision alexnet state dict"):
        LPIPS(vgg)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(DataValidationError, match=r"junk\.pt: not a torch\.export program file"):
        FrechetDistance(junk)
    with pytest.raises(DataValidationError, match="never downloaded"):
        FrechetDistance(tmp_path / "inception.pt2")


def test_frechet_distance_with_an_exported_feature_network(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
                              torch.nn.Flatten())  # fmt: skip
    path = tmp_path / "features.pt2"
    batch = torch.export.Dim("batch", min=1, max=1024)
    program = torch.export.export(net, (torch.rand(16, 3, 16, 16),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(path))
    fid = FrechetDistance(path, batch_size=16)
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(200, 3, 16, 16, generator=g), torch.rand(200, 3, 16, 16, generator=g)
    shifted = (b * 0.5 + 0.5).clamp(0, 1)
    same, far = fid(a, b), fid(a, shifted)
    assert same < 0.1 * far, (same, far)
    assert fid(a, a) == pytest.approx(0.0, abs=1e-6)
