"""ERA5-style forecasting batches for WDNO: ``past`` frames in, ``future`` frames generated.

Each variable is normalised by its mean and standard deviation over the *training years* (all grid points),
``z = (x - mean_v) / std_v``. A window is ``past + future`` consecutive frames of one split; its frames are
stacked as channels (frame-major: ``[x_0 v_0, x_0 v_1, ..., x_1 v_0, ...]``) on the ``(latitude, longitude)``
grid. The batch is ``{"x0": codec.encode(future), "cond": {"cond_image": cond_codec.encode(past)}}`` with the
one-level 2-D wavelet codec over ``(latitude, longitude)`` (:class:`condiff.pde.codec.WaveletCodec`).
:func:`forecast` samples the future from the past and returns it in physical units.

``path=None`` uses the built-in stand-in :func:`condiff.pde.climate.synthetic_climate` (no download);
a real ERA5 / WeatherBench file is read by :func:`condiff.pde.climate.open_climate`.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from condiff.core.errors import DataValidationError
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling import ModelDenoiser, sample
from condiff.pde.climate import ClimateFields, from_dataset, open_climate, synthetic_climate
from condiff.pde.codec import PixelCodec
from condiff.pde.datamodule import make_codec


class ClimateWindows(Dataset):
    """``(past (P V, H, W), future (F V, H, W))`` normalised windows starting at every admissible frame of a split."""

    def __init__(self, data: Tensor, frames: Tensor, past: int, future: int) -> None:
        self.data, self.past, self.future = data, past, future
        span = past + future
        idx = frames.tolist()
        self.starts = [idx[k] for k in range(len(idx) - span + 1) if idx[k + span - 1] - idx[k] == span - 1]

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> tuple[Tensor, Tensor]:
        s = self.starts[i]
        window = self.data[s : s + self.past + self.future]  # (P + F, V, H, W)
        return window[: self.past].flatten(0, 1).float(), window[self.past :].flatten(0, 1).float()


class ClimateDataModule(L.LightningDataModule):
    """ERA5-style fields (NetCDF or zarr) as WDNO forecasting batches.

    Args:
        path: a NetCDF file or zarr store with dims ``(time, latitude, longitude)`` (or ``valid_time``, ``lat``,
            ``lon``); None for the built-in synthetic stand-in.
        variables: names to read (None: every variable on the three dimensions).
        train_years, val_years: calendar years of the splits (statistics come from the training years).
        past, future: frames given and frames generated.
        domain, wavelet, level: the codec (``"wavelet"``: WDNO; ``"pixel"``: the ablation).
        batch_size, seed, num_workers: loaders.
        synthetic_steps_per_year, synthetic_grid: the built-in source's frames per year and ``(nlat, nlon)``.
    """

    def __init__(
        self,
        path: str | None = None,
        variables: list[str] | None = None,
        train_years: list[int] | tuple[int, ...] = (2000, 2001, 2002),
        val_years: list[int] | tuple[int, ...] = (2003,),
        past: int = 2,
        future: int = 4,
        domain: str = "wavelet",
        wavelet: str = "bior2.4",
        level: int = 1,
        batch_size: int = 32,
        seed: int = 0,
        num_workers: int = 0,
        synthetic_steps_per_year: int = 146,
        synthetic_grid: list[int] | tuple[int, int] = (32, 64),
    ) -> None:
        super().__init__()
        if past < 1 or future < 1:
            raise ValueError(f"past and future must be >= 1, got {past}, {future}")
        self.path, self.variables = path, None if variables is None else [str(v) for v in variables]
        self.train_years, self.val_years = [int(y) for y in train_years], [int(y) for y in val_years]
        self.past, self.future, self.level = past, future, level
        self.domain, self.wavelet = domain, wavelet
        self.batch_size, self.seed, self.num_workers = batch_size, seed, num_workers
        self.synthetic_steps_per_year, self.synthetic_grid = synthetic_steps_per_year, tuple(synthetic_grid)
        self.fields: ClimateFields | None = None

    # -- data --------------------------------------------------------------------
    def _read(self) -> ClimateFields:
        if self.path is not None:
            return open_climate(self.path, self.variables)
        years = tuple(sorted(set(self.train_years + self.val_years)))
        nlat, nlon = self.synthetic_grid
        ds = synthetic_climate(years, self.synthetic_steps_per_year, nlat, nlon, seed=self.seed)
        return from_dataset(ds, self.variables, "built-in synthetic climate")

    def setup(self, stage: str | None = None) -> None:
        if self.fields is not None:
            return
        fields = self._read()
        h, w = fields.data.shape[-2:]
        if h % 2**self.level or w % 2**self.level:
            raise DataValidationError(
                f"{fields.source}: grid (latitude, longitude) = {(h, w)} must be divisible by"
                f" 2**level = {2**self.level}"
            )
        train = fields.select_years(self.train_years)
        val = fields.select_years(self.val_years)
        x = fields.data[train]  # (T, V, H, W)
        self.mean = x.mean((0, 2, 3))
        self.std = x.std((0, 2, 3)).clamp_min(1e-12)
        self.climatology = x.mean(0)  # (V, H, W), physical units
        self.normalised = (fields.data - self.mean.view(1, -1, 1, 1)) / self.std.view(1, -1, 1, 1)
        self.train_set = ClimateWindows(self.normalised, train, self.past, self.future)
        self.val_set = ClimateWindows(self.normalised, val, self.past, self.future)
        for name, split in (("train_years", self.train_set), ("val_years", self.val_set)):
            if len(split) == 0:
                raise DataValidationError(
                    f"{fields.source}: {name} hold no run of {self.past + self.future} consecutive frames"
                )
        v = fields.data.shape[1]
        self.codec = make_codec(self.domain, self.future * v, self.wavelet, self.level)
        self.cond_codec = make_codec(self.domain, self.past * v, self.wavelet, self.level)
        first = [self.train_set[i] for i in range(min(64, len(self.train_set)))]
        self.codec.fit(torch.stack([f for _, f in first]))
        self.cond_codec.fit(torch.stack([p for p, _ in first]))
        self.fields = fields

    @property
    def latitude(self) -> Tensor:
        self.setup()
        assert self.fields is not None
        return self.fields.latitude

    def denormalise(self, frames: Tensor) -> Tensor:
        """``(B, F V, H, W)`` normalised channels -> ``(B, F, V, H, W)`` in physical units."""
        v = self.mean.shape[0]
        x = frames.double().unflatten(1, (-1, v))
        return x * self.std.view(1, 1, -1, 1, 1).to(x) + self.mean.view(1, 1, -1, 1, 1).to(x)

    def batch(self, past: Tensor, future: Tensor) -> dict[str, Any]:
        return {"x0": self.codec.encode(future), "cond": {"cond_image": self.cond_codec.encode(past)}}

    def _collate(self, items: list[tuple[Tensor, Tensor]]) -> dict[str, Any]:
        return self.batch(torch.stack([p for p, _ in items]), torch.stack([f for _, f in items]))

    def train_dataloader(self) -> DataLoader:
        self.setup()
        if len(self.train_set) < self.batch_size:
            raise ValueError(f"need at least batch_size={self.batch_size} training windows, got {len(self.train_set)}")
        gen = torch.Generator().manual_seed(self.seed)
        return DataLoader(
            self.train_set, batch_size=self.batch_size, shuffle=True, drop_last=True, generator=gen,
            collate_fn=self._collate, num_workers=self.num_workers,
        )  # fmt: skip

    def val_dataloader(self) -> DataLoader:
        self.setup()
        return DataLoader(
            self.val_set, batch_size=self.batch_size, collate_fn=self._collate, num_workers=self.num_workers
        )


@torch.no_grad()
def forecast(
    network: nn.Module,
    process: GaussianProcess,
    parameterization: str,
    codec: PixelCodec,
    cond_codec: PixelCodec,
    past: Tensor,
    *,
    steps: int = 50,
    method: str = "ddim",
    generator: torch.Generator | None = None,
    **options: Any,
) -> Tensor:
    """Sample the normalised future ``(B, F V, H, W)`` given normalised ``past (B, P V, H, W)``."""
    h, w = past.shape[-2:]
    cond = {"cond_image": cond_codec.encode(past.float())}
    shape = (past.shape[0], *codec.encode(past.new_zeros(1, codec.channels, h, w).float()).shape[1:])
    denoiser = ModelDenoiser(network, process, parameterization, cond=cond)
    result = sample(
        denoiser, process, shape=shape, steps=steps, method=method, generator=generator, device=past.device, **options
    )
    return codec.decode(result.x, (h, w))


def persistence(past: Tensor, variables: int, future: int) -> Tensor:
    """The baseline forecast: the last past frame repeated, ``(B, P V, H, W)`` -> ``(B, F V, H, W)``."""
    if past.dim() != 4 or past.shape[1] % variables:
        raise ValueError(f"past must be (B, P V, H, W) with V = {variables}, got {tuple(past.shape)}")
    return past[:, -variables:].repeat(1, future, 1, 1)
