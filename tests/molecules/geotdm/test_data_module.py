"""The N-body data module (torch-geometric batches, determinism, files) and the training module's loss."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from condiff.core.errors import ConfigError, DataValidationError
from condiff.core.losses import ResidualNoiseLoss
from condiff.core.processes import DiscreteVPProcess
from condiff.molecules.geotdm import (
    GeoTDMModel,
    NBodyDataModule,
    PriorShiftedProcess,
    TrajectoryDiffusionModule,
    masked_regression,
    systems_from_batch,
)
from condiff.molecules.geotdm.nbody import NBodyConfig, write_nbody_splits

DDPM = DiscreteVPProcess(betas=torch.linspace(1e-4, 0.02, 1000))


def _dm(**kw) -> NBodyDataModule:
    args = {
        "num_frames": 6,
        "sample_every": 10,
        "train_size": 30,
        "val_size": 4,
        "test_size": 4,
        "batch_size": 4,
        "chunk_size": 8,
        **kw,
    }
    return NBodyDataModule(**args)


def test_batches_are_disjoint_graphs_of_systems() -> None:
    dm = _dm()
    batch = next(iter(dm.train_dataloader()))
    sys = systems_from_batch(batch)
    assert sys.x.shape == (20, 6, 3)
    assert sys.batch.tolist() == [b for b in range(4) for _ in range(5)]
    assert sys.edge_index is not None
    assert sys.edge_attr is not None
    assert sys.node_attr is not None
    assert sys.edge_index.shape == (2, 4 * 20)
    assert bool((sys.batch[sys.edge_index[0]] == sys.batch[sys.edge_index[1]]).all())  # no edge across systems
    q = sys.node_attr[:, 0]
    torch.testing.assert_close(sys.edge_attr[:, 0], q[sys.edge_index[0]] * q[sys.edge_index[1]])  # q_i q_j


def test_splits_are_deterministic_whatever_the_access_order() -> None:
    a, b = _dm(), _dm()
    late_first = b.splits["train"][29].x0
    torch.testing.assert_close(a.splits["train"][29].x0, late_first)
    torch.testing.assert_close(a.splits["train"][3].x0, b.splits["train"][3].x0)
    assert not torch.equal(a.splits["train"][0].x0, a.splits["test"][0].x0)
    assert not torch.equal(_dm(data_seed=1).splits["train"][0].x0, a.splits["train"][0].x0)
    with pytest.raises(IndexError):
        a.splits["val"][4]


def test_splits_are_read_from_files_and_short_files_are_named(tmp_path: Path) -> None:
    cfg = NBodyConfig(num_frames=8, sample_every=10)
    paths = write_nbody_splits(tmp_path, {"train": 3, "val": 2, "test": 2}, cfg, seed=0)
    dm = _dm(path=str(tmp_path))
    assert len(dm.splits["train"]) == 3
    from condiff.molecules.geotdm.nbody import load_nbody_npz

    torch.testing.assert_close(dm.splits["val"][1].x0, load_nbody_npz(paths["val"]).positions[1, :, :6])
    with pytest.raises(DataValidationError, match=r"train\.npz: 8 frames, fewer than num_frames=12"):
        _dm(path=str(tmp_path), num_frames=12)


def _module(mode: str = "forecast", **kw) -> TrajectoryDiffusionModule:
    torch.manual_seed(0)
    given = (2, 0) if mode == "forecast" else (0, 0)
    model = GeoTDMModel(mode, 6, *given, hidden=8, num_layers=1, heads=2, time_dim=8, prior_layers=1, sigma_data=0.1)
    return TrajectoryDiffusionModule(model, PriorShiftedProcess(DDPM), "eps", **kw)


@pytest.mark.parametrize("mode", ["forecast", "uncond"])
def test_loss_is_translation_invariant_and_reaches_every_parameter(mode: str) -> None:
    module, batch = _module(mode), next(iter(_dm().train_dataloader()))
    loss = module._loss(batch, generator=torch.Generator().manual_seed(0))
    moved = batch.clone()
    moved.x0 = moved.x0 + torch.tensor([4.0, -1.0, 2.0])
    torch.testing.assert_close(module._loss(moved, generator=torch.Generator().manual_seed(0)), loss)
    module.prior_loss_weight = 1.0  # the prior's own regression term reaches the prior's encoder too
    if module.network.prior is not None:  # its output layer starts at zero, which would stop the gradient
        torch.nn.init.normal_(module.network.prior.logits.weight, std=0.1)
    module._loss(batch, generator=torch.Generator().manual_seed(0)).backward()
    unused = {n.rsplit(".", 1)[0] for n, p in module.network.named_parameters() if p.grad is None or not p.grad.any()}
    # The denoiser's last feature update reaches no output (it returns coordinates); the prior's encoder returns
    # features, so its coordinate updates reach nothing.
    expected = {"network.temporal.0.out"}
    if mode == "forecast":
        expected |= {
            "prior.encoder.spatial.0.phi_x.0",
            "prior.encoder.spatial.0.phi_x.2",
            "prior.encoder.temporal.0.gate",
        }
    assert unused == expected


def test_masked_loss_ignores_given_frames() -> None:
    g = torch.Generator().manual_seed(0)
    out, target = torch.randn(5, 4, 3, generator=g), torch.randn(5, 4, 3, generator=g)
    generated, batch = torch.tensor([False, True, True, True]), torch.tensor([0, 0, 0, 1, 1])
    loss = masked_regression(out, target, generated, batch)
    changed = out.clone()
    changed[:, 0] += 10.0
    torch.testing.assert_close(masked_regression(changed, target, generated, batch), loss)
    per_node = ((out - target)[:, 1:] ** 2).mean(dim=(1, 2))
    torch.testing.assert_close(loss, (per_node[:3].mean() + per_node[3:].mean()) / 2)


def test_bad_module_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="a \\+ b = 1"):
        TrajectoryDiffusionModule(_module().network, DDPM)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="RegressionLoss"):
        _module(loss=ResidualNoiseLoss())
    with pytest.raises(ConfigError, match="parameterization eps"):
        TrajectoryDiffusionModule(_module().network, PriorShiftedProcess(DDPM), "x0")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="GeoTDMModel"):
        TrajectoryDiffusionModule(torch.nn.Linear(1, 1), PriorShiftedProcess(DDPM))  # type: ignore[arg-type]
