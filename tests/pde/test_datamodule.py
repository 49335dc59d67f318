"""Burgers batches for the core: real solver trajectories in, exactly decodable states out, solved lazily,
cached as NetCDF, at several resolutions."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from condiff.core.errors import DataValidationError
from condiff.pde.datamodule import BurgersDataModule, MultiResolutionBatches, TrajectoryBlocks
from condiff.pde.fields import fourier_upsample, split_fields
from condiff.pde.physics import advection_forced, burgers

SMALL = {"n": 16, "nt": 7, "train_samples": 24, "test_samples": 6, "batch_size": 4, "block": 8, "t_final": 0.5}


def test_batches_decode_to_trajectories_of_the_solver() -> None:
    dm = BurgersDataModule(**SMALL)
    batch = next(iter(dm.train_dataloader()))
    assert batch["x0"].shape == (4, 8, 4, 8)
    assert batch["cond"]["cond_image"].shape == (4, 4, 4, 8)
    u, f = split_fields(dm.codec.decode(batch["x0"].double(), (8, 16)))
    again = burgers(u[:, 0], nu=dm.nu, nt=7, t_final=0.5, forcing=f)
    torch.testing.assert_close(again, u, atol=2e-5, rtol=0)  # float32 storage
    u0 = dm.cond_codec.decode(batch["cond"]["cond_image"].double(), (8, 16))[:, 0]
    torch.testing.assert_close(u0, u[:, :1].expand_as(u0), atol=2e-6, rtol=0)


def test_control_batches_also_carry_the_final_state() -> None:
    dm = BurgersDataModule(**SMALL, condition_on_final=True, domain="pixel")
    batch = next(iter(dm.train_dataloader()))
    assert batch["x0"].shape == (4, 2, 8, 16)
    cond = dm.cond_codec.decode(batch["cond"]["cond_image"], (8, 16))
    u = dm.codec.decode(batch["x0"], (8, 16))[:, 0]
    torch.testing.assert_close(cond[:, 1, 3], u[:, -1])


def test_only_the_blocks_a_batch_needs_are_solved_and_data_are_deterministic() -> None:
    lazy = BurgersDataModule(**{**SMALL, "train_samples": 64, "batch_size": 2})
    next(iter(lazy.train_dataloader()))
    assert isinstance(lazy._train, TrajectoryBlocks)
    assert len(lazy._train._cache) <= 3  # the fitting block and the (at most two) blocks of the batch, of 8
    dm = BurgersDataModule(**SMALL)
    first = next(iter(dm.train_dataloader()))
    again = next(iter(BurgersDataModule(**SMALL).train_dataloader()))
    assert torch.equal(first["x0"], again["x0"])
    other = BurgersDataModule(**{**SMALL, "seed": 1})
    assert not torch.equal(next(iter(other.train_dataloader()))["x0"], first["x0"])
    assert dm.test.u.shape == (6, 8, 16)


def test_netcdf_cache_gives_the_same_batches(tmp_path: Path) -> None:
    memory = BurgersDataModule(**SMALL)
    disk = BurgersDataModule(**SMALL, data_dir=str(tmp_path))
    assert torch.equal(next(iter(memory.train_dataloader()))["x0"], next(iter(disk.train_dataloader()))["x0"])
    assert (tmp_path / "train.nc").is_file()
    assert (tmp_path / "test.nc").is_file()
    reread = BurgersDataModule(**SMALL, data_dir=str(tmp_path))
    torch.testing.assert_close(reread.test.u, memory.test.u, atol=0, rtol=0)
    with pytest.raises(DataValidationError, match=r"train\.nc: holds u"):
        BurgersDataModule(**{**SMALL, "train_samples": 16}, data_dir=str(tmp_path)).setup()


def test_multi_resolution_batches_alternate_grids() -> None:
    dm = BurgersDataModule(**{**SMALL, "n": 32}, train_subsample=[1, 2])
    shapes = [tuple(b["x0"].shape[-2:]) for b in dm.train_dataloader()]
    assert shapes[:4] == [(4, 16), (4, 8), (4, 16), (4, 8)]
    coarse = list(dm.train_dataloader())[1]
    u = split_fields(dm.codec.decode(coarse["x0"].double(), (8, 16)))[0]
    assert u.shape[-1] == 16  # every second grid point of the 32-point solution
    with pytest.raises(ValueError, match="train_subsample"):
        BurgersDataModule(**{**SMALL, "n": 16}, train_subsample=[3])


def test_batch_order_depends_on_seed_and_epoch_only() -> None:
    a = MultiResolutionBatches(10, 3, [1], seed=4)
    b = MultiResolutionBatches(10, 3, [1], seed=4)
    assert list(a) == list(b)
    assert len(list(a)) == 3
    a.set_epoch(1)
    assert list(a) != list(b)


def test_super_resolution_batches_carry_the_interpolated_coarser_trajectory() -> None:
    dm = BurgersDataModule(**{**SMALL, "n": 32}, super_resolution=True, train_subsample=[1, 2])
    for batch, n in zip(list(dm.train_dataloader())[:2], (32, 16), strict=True):
        assert batch["cond"]["cond_image"].shape == (4, 8, 4, n // 2)  # u0 and the coarse trajectory, 4 bands
        u = split_fields(dm.codec.decode(batch["x0"].double(), (8, n)))[0]
        cond = dm.cond_codec.decode(batch["cond"]["cond_image"].double(), (8, n))
        torch.testing.assert_close(cond[:, 1], fourier_upsample(u[..., ::2]), atol=3e-5, rtol=0)
    with pytest.raises(ValueError, match="divisible by 4"):
        BurgersDataModule(**{**SMALL, "n": 16}, super_resolution=True, train_subsample=[8])


def test_advection_batches_decode_to_the_exact_forced_advection() -> None:
    dm = BurgersDataModule(**SMALL, pde="advection", velocity=0.8)
    batch = next(iter(dm.train_dataloader()))
    u, f = split_fields(dm.codec.decode(batch["x0"].double(), (8, 16)))
    torch.testing.assert_close(dm.solve(u[:, 0], f), u, atol=2e-5, rtol=0)
    torch.testing.assert_close(
        dm.solve(u[:, 0], f), advection_forced(u[:, 0], velocity=0.8, nt=7, t_final=0.5, forcing=f), atol=0, rtol=0
    )
    burgers_dm = BurgersDataModule(**SMALL)
    assert not torch.allclose(burgers_dm.solve(u[:, 0], f), dm.solve(u[:, 0], f), atol=1e-3)
    with pytest.raises(ValueError, match="unknown pde"):
        BurgersDataModule(**SMALL, pde="heat")
