"""ERA5-style climate fields: NetCDF and zarr files the tests write, ERA5 dimension names, clear errors, training-year
statistics, the WeatherBench latitude-weighted scores against hand computations, and the wdno_era5 config training."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir

from condiff.core.config_path import core_config_dir
from condiff.core.errors import DataValidationError
from condiff.core.training.run import train
from condiff.pde.climate import open_climate, synthetic_climate
from condiff.pde.climate_datamodule import ClimateDataModule, forecast, persistence
from condiff.pde.climate_metrics import latitude_weights, weighted_acc, weighted_rmse

YEARS = (2000, 2001, 2002)


def _era5_names(ds):
    """The names of an ERA5 download from the CDS: valid_time, lat/lon spelled out as latitude/longitude."""
    return ds.rename({"time": "valid_time"})


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("era5")
    ds = synthetic_climate(YEARS, steps_per_year=12, nlat=8, nlon=16, seed=1)
    nc, zarr = root / "era5.nc", root / "era5.zarr"
    _era5_names(ds).to_netcdf(nc, engine="h5netcdf")
    ds.rename({"latitude": "lat", "longitude": "lon"}).to_zarr(zarr, mode="w", consolidated=False)
    return {"nc": nc, "zarr": zarr, "ds": ds}  # type: ignore[dict-item]


def test_netcdf_and_zarr_read_the_same_fields(files: dict) -> None:
    a, b = open_climate(files["nc"], ["z500", "t2m"]), open_climate(files["zarr"], ["z500", "t2m"])
    assert a.variables == ["z500", "t2m"]
    assert a.units == ["m2 s-2", "K"]
    assert a.data.shape == (36, 2, 8, 16)
    assert torch.equal(a.data, b.data)
    assert torch.equal(a.latitude, b.latitude)
    np.testing.assert_array_equal(a.data[:, 1].numpy(), files["ds"]["t2m"].values.astype(np.float64))
    assert sorted(set(a.years().tolist())) == list(YEARS)


def test_errors_name_the_file_and_the_problem(files: dict, tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"era5\.nc: missing variable 'u10'"):
        open_climate(files["nc"], ["t2m", "u10"])
    flat = files["ds"].isel(longitude=0)
    flat.to_netcdf(tmp_path / "flat.nc", engine="h5netcdf")
    with pytest.raises(DataValidationError, match=r"flat\.nc: missing dimension 'longitude'"):
        open_climate(tmp_path / "flat.nc")
    nan = files["ds"].copy(deep=True)
    nan["t2m"][5, 2, 3] = np.nan
    nan.to_netcdf(tmp_path / "nan.nc", engine="h5netcdf")
    with pytest.raises(DataValidationError, match=r"nan\.nc: variable 't2m' has a NaN .* = \(5, 2, 3\)"):
        open_climate(tmp_path / "nan.nc")
    with pytest.raises(DataValidationError, match=r"absent\.zarr: no such file"):
        open_climate(tmp_path / "absent.zarr")
    with pytest.raises(DataValidationError, match=r"era5\.nc: no frames in years \[1990\]"):
        ClimateDataModule(path=str(files["nc"]), train_years=[1990]).setup()


def test_statistics_come_from_the_training_years_and_windows_stay_inside_a_split(files: dict) -> None:
    dm = ClimateDataModule(path=str(files["zarr"]), variables=["t2m"], train_years=[2000, 2001], val_years=[2002],
                           past=2, future=2, batch_size=4)  # fmt: skip
    dm.setup()
    t2m = files["ds"]["t2m"].sel(time=slice("2000", "2001")).values.astype(np.float64)
    assert math.isclose(dm.mean.item(), t2m.mean(), rel_tol=1e-12)
    assert math.isclose(dm.std.item(), t2m.std(ddof=1), rel_tol=1e-9)
    n_val = files["ds"]["t2m"].sel(time="2002").shape[0]
    assert len(dm.train_set) == len(t2m) - 3
    assert len(dm.val_set) == n_val - 3
    past, future = dm.train_set[0]
    torch.testing.assert_close(dm.denormalise(future[None])[0, :, 0].double(),
                               torch.tensor(t2m[2:4]), atol=1e-4, rtol=0)  # fmt: skip
    torch.testing.assert_close(persistence(past[None], 1, 2)[0], past[1:].repeat(2, 1, 1))


def test_latitude_weighted_scores_match_hand_computations() -> None:
    lat = torch.tensor([60.0, 0.0, -60.0])
    w = latitude_weights(lat)
    torch.testing.assert_close(w, torch.tensor([0.5, 1.0, 0.5], dtype=torch.float64) / (2 / 3))  # cos / mean cos
    target = torch.zeros(1, 3, 2)
    pred = torch.tensor([[[2.0, 2.0], [0.0, 0.0], [0.0, 0.0]]])  # error 2 on the 60N row only
    # mean of w (f - t)^2 = (0.75 * 4 * 2) / 6 = 1; sqrt = 1 (unweighted RMSE would be sqrt(8 / 6) = 1.155)
    assert math.isclose(weighted_rmse(pred, target, lat).item(), 1.0, rel_tol=1e-12)
    clim = torch.zeros(3, 2)
    truth = torch.tensor([[[1.0, -1.0], [2.0, 0.0], [0.0, 1.0]]])
    assert math.isclose(weighted_acc(truth, truth, clim, lat).item(), 1.0, rel_tol=1e-12)
    assert math.isclose(weighted_acc(-truth, truth, clim, lat).item(), -1.0, rel_tol=1e-12)
    guess = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]])
    # sum w f t = 0.75 * 1 + 1.5 * 2 = 3.75; sum w f^2 = 0.75 + 1.5 = 2.25; sum w t^2 = 0.75 * 3 + 1.5 * 4 = 8.25
    expected = 3.75 / math.sqrt(2.25 * 8.25)
    assert math.isclose(weighted_acc(guess, truth, clim, lat).item(), expected, rel_tol=1e-12)


def test_era5_config_trains_and_forecasts(files: dict, tmp_path: Path) -> None:
    overrides = [
        f"paths.output_dir={tmp_path}", "experiment=pde/wdno_era5", "logger=none", "threads=1",
        "trainer.enable_progress_bar=false", "trainer.max_steps=2", "trainer.check_val_every_n_epoch=1000",
        "trainer.num_sanity_val_steps=0", "export=false", f"task.datamodule.path={files['nc']}",
        "task.datamodule.train_years=[2000,2001]", "task.datamodule.val_years=[2002]", "task.datamodule.batch_size=4",
        "task.network.base_channels=8", "task.network.channel_mults=[1]", "task.network.num_res_blocks=1",
    ]  # fmt: skip
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    result = train(cfg)
    module, dm = result["module"], result["trainer"].datamodule
    assert module.global_step == 2
    past, future = next(iter(torch.utils.data.DataLoader(dm.val_set, batch_size=3)))
    pred = forecast(module.ema_network.eval(), module.process, module.parameterization, dm.codec, dm.cond_codec,
                    past, steps=2, generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert pred.shape == future.shape == (3, 8, 8, 16)
    score = weighted_rmse(dm.denormalise(pred)[:, :, 0], dm.denormalise(future)[:, :, 0], dm.latitude)
    assert torch.isfinite(score)
