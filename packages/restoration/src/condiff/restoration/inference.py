"""Restore a folder of the user's own images of any size: tiled sampling with overlap, optional metrics."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from condiff.core.data.folders import paired_files
from condiff.core.errors import DataValidationError
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling import ModelDenoiser, sample
from condiff.restoration.data.images import IMAGE_SUFFIXES, read_image, write_image
from condiff.restoration.metrics import restoration_metrics


def tile_origins(size: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of ``tile`` pixels covering ``size`` with at least ``overlap`` pixels shared."""
    if size <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, size - tile + 1, stride))
    if starts[-1] != size - tile:
        starts.append(size - tile)
    return starts


def blend_window(tile: int, overlap: int) -> Tensor:
    """``(tile, tile)`` weights rising linearly over ``overlap`` pixels at each border (never zero)."""
    ramp = torch.ones(tile)
    if overlap > 0:
        r = torch.linspace(1.0 / (overlap + 1), 1.0, overlap + 1)[:-1]
        ramp[:overlap] = r
        ramp[-overlap:] = r.flip(0)
    return ramp[:, None] * ramp[None, :]


class FolderRestorer:
    """Restore every image of a folder with a trained model, tile by tile.

    Images are reflect-padded to at least one tile and to a multiple of ``multiple``, cut into
    ``tile x tile`` tiles overlapping by ``overlap`` pixels, restored in batches of ``batch_size``
    and blended with linear ramps over the overlaps. With a ground-truth folder (same file names)
    the metrics of every image (PSNR/SSIM on RGB and Y, MAE) go to ``metrics.csv`` with their mean.

    Args:
        tile: tile size in pixels.
        overlap: pixels shared by neighbouring tiles.
        batch_size: tiles restored at once.
        multiple: the network's size divisor (``2^levels``).
        crop_border: border pixels left out of the metrics.
    """

    def __init__(
        self, tile: int = 128, overlap: int = 16, batch_size: int = 8, multiple: int = 8, crop_border: int = 0
    ) -> None:
        if not 0 <= overlap < tile or tile % multiple:
            raise ValueError(
                f"FolderRestorer: need 0 <= overlap < tile and tile divisible by {multiple}; "
                f"got tile={tile}, overlap={overlap}"
            )
        self.tile, self.overlap, self.batch_size, self.multiple, self.crop_border = (
            tile,
            overlap,
            batch_size,
            multiple,
            crop_border,
        )

    @torch.no_grad()
    def restore(
        self,
        lq: Tensor,
        network: nn.Module,
        process: GaussianProcess,
        parameterization: str,
        sampler: dict[str, Any],
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Restore one image ``(C, H, W)`` in ``[0, 1]``; returns the same shape in ``[0, 1]``."""
        h, w = lq.shape[-2:]
        t = self.tile
        ph, pw = max(h, t), max(w, t)
        ph, pw = -(-ph // self.multiple) * self.multiple, -(-pw // self.multiple) * self.multiple
        # Reflection needs the padding to be smaller than the image; tiny images are padded by replication.
        mode = "reflect" if pw - w < w and ph - h < h else "replicate"
        x = torch.nn.functional.pad(lq[None] * 2 - 1, (0, pw - w, 0, ph - h), mode=mode)[0]
        tops, lefts = tile_origins(ph, t, self.overlap), tile_origins(pw, t, self.overlap)
        boxes = [(i, j) for i in tops for j in lefts]
        win = blend_window(t, self.overlap).to(x.dtype)
        out = torch.zeros_like(x)
        weight = torch.zeros(1, ph, pw, dtype=x.dtype)
        opts = dict(sampler)
        guidance = float(opts.pop("guidance", 1.0))
        for k in range(0, len(boxes), self.batch_size):
            chunk = boxes[k : k + self.batch_size]
            y = torch.stack([x[:, i : i + t, j : j + t] for i, j in chunk])
            den = ModelDenoiser(network, process, parameterization, y=y, cond={"cond_image": y}, guidance=guidance)
            res = sample(den, process, y=y, shape=tuple(y.shape), generator=generator, **opts).x
            for (i, j), r in zip(chunk, res, strict=True):
                out[:, i : i + t, j : j + t] += r * win
                weight[:, i : i + t, j : j + t] += win
        return ((out / weight)[:, :h, :w].clamp(-1, 1) + 1) / 2

    def __call__(
        self,
        network: nn.Module,
        process: GaussianProcess,
        parameterization: str,
        input_dir: str | os.PathLike[str],
        output_dir: str | os.PathLike[str],
        gt_dir: str | os.PathLike[str] | None = None,
        sampler: dict[str, Any] | None = None,
        generator: torch.Generator | None = None,
        channels: int = 3,
    ) -> dict[str, Any]:
        """Restore ``input_dir/*`` into ``output_dir`` (PNG, same names); metrics against ``gt_dir`` if given."""
        dst = Path(output_dir)
        files, gts = paired_files(input_dir, gt_dir, IMAGE_SUFFIXES, kind="images", reference="ground truth")
        rows: list[dict[str, Any]] = []
        metrics: list[dict[str, float]] = []
        for f in files:
            lq = read_image(f, channels)
            restored = self.restore(lq, network, process, parameterization, sampler or {}, generator)
            write_image(restored, dst / f"{f.stem}.png")
            if gts:
                gt = read_image(gts[f.stem], channels)
                if gt.shape != lq.shape:
                    raise DataValidationError(
                        f"{gts[f.stem]}: size {tuple(gt.shape[1:])} differs from {f} ({tuple(lq.shape[1:])})"
                    )
                m = restoration_metrics(restored[None], gt[None], self.crop_border)
                metrics.append(m)
                rows.append({"image": f.name, **{k: round(v, 4) for k, v in m.items()}})
        if rows:
            keys = list(metrics[0])
            rows.append({"image": "mean", **{k: round(sum(m[k] for m in metrics) / len(metrics), 4) for k in keys}})
            with open(dst / "metrics.csv", "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=["image", *keys])
                writer.writeheader()
                writer.writerows(rows)
        return {"restored": len(files), "output_dir": dst, "metrics": rows[-1] if rows else None}
