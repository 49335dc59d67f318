"""``condiff-sample input_dir=...``: process a folder of NIfTI files or DICOM series slice by slice (or whole
volumes with a 3-D network) and write NIfTI outputs with the input's affine and shape."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from condiff.core.errors import DataValidationError
from condiff.core.processes.base import GaussianProcess
from condiff.core.sampling import ModelDenoiser, sample
from condiff.medical.data.intensity import IntensityWindow
from condiff.medical.io import Volume, list_volumes, load_volume, save_nifti, validate_mask, volume_stem
from condiff.medical.metrics import reconstruction_metrics, segmentation_metrics
from condiff.medical.segmentation import ensemble_segment

OUTPUTS = ("image", "mask")


def _pad_to(x: Tensor, multiple: int) -> tuple[Tensor, tuple[int, ...]]:
    """Replicate-pad the spatial axes of ``x: (B, C, *spatial)`` up to multiples of ``multiple``."""
    spatial = x.shape[2:]
    pads: list[int] = []
    for s in reversed(spatial):
        pads += [0, -(-s // multiple) * multiple - s]
    return (F.pad(x, pads, mode="replicate") if any(pads) else x), tuple(spatial)


class VolumeProcessor:
    """Apply a trained task model to every volume of a folder.

    Each volume is windowed to ``[0, 1]`` between its ``percentiles`` (recorded next to the output as
    ``<name>.json``), cut into axial slices (the last axis; a 3-D network takes the whole volume), padded to the
    network's size divisor, processed, and written as ``<name>.nii.gz`` with the input's affine and shape:
    back in the input's intensity units for ``output="image"``, a uint8 mask plus an ``<name>_std.nii.gz``
    uncertainty map (ensemble of ``members`` samples) for ``output="mask"``. With a ground-truth folder (same
    names), the metrics of every volume go to ``metrics.csv``.

    Args:
        output: ``image`` (denoising, reconstruction) or ``mask`` (segmentation).
        members: ensemble size for masks.
        batch_size: slices processed at once.
        multiple: the network's size divisor ``2^(levels-1)``.
        percentiles: intensity window of each volume.
        window: a named CT window (Hounsfield units, :data:`~condiff.medical.data.intensity.CT_WINDOWS`) for
            every volume instead of its percentiles: the window a CT model was trained with (values outside it
            come back clipped to it).
    """

    def __init__(
        self,
        output: str = "image",
        members: int = 4,
        batch_size: int = 16,
        multiple: int = 2,
        percentiles: tuple[float, float] | list[float] = (0.5, 99.5),
        window: str | None = None,
    ) -> None:
        if output not in OUTPUTS:
            raise ValueError(f"VolumeProcessor: output must be one of {OUTPUTS}, got {output!r}")
        self.output, self.members, self.batch_size, self.multiple = output, int(members), int(batch_size), int(multiple)
        self.percentiles = (float(percentiles[0]), float(percentiles[1]))
        self.window = IntensityWindow.ct(window) if window else None

    @staticmethod
    def _inputs(data: np.ndarray, spatial_dims: int) -> Tensor:
        """``(X, Y[, Z])`` -> network inputs: ``(Z, 1, X, Y)`` axial slices, or ``(1, 1, X, Y, Z)`` for a 3-D model."""
        u = torch.from_numpy(np.ascontiguousarray(data))
        if data.ndim == 2:
            return u[None, None]
        return u[None, None] if spatial_dims == 3 else u.permute(2, 0, 1)[:, None]

    @staticmethod
    def _to_volume(out: Tensor, ndim: int, spatial_dims: int) -> np.ndarray:
        """The inverse of :meth:`_inputs`."""
        if spatial_dims == 3 or ndim == 2:
            return out[0, 0].numpy()
        return out[:, 0].permute(1, 2, 0).numpy()

    @torch.no_grad()
    def process(
        self,
        u: Tensor,
        network: nn.Module,
        process: GaussianProcess,
        parameterization: str,
        sampler: dict[str, Any],
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """Process ``u: (N, 1, *spatial)`` in ``[0, 1]``; returns the output in ``[0, 1]`` (and the std map)."""
        opts = dict(sampler)
        guidance = float(opts.pop("guidance", 1.0))
        outs, stds = [], []
        for k in range(0, len(u), self.batch_size):
            chunk, spatial = _pad_to(u[k : k + self.batch_size], self.multiple)
            crop = (slice(None), slice(None), *(slice(0, s) for s in spatial))
            if self.output == "mask":
                ens = ensemble_segment(network, process, parameterization, chunk, self.members, generator, **opts)
                outs.append(ens.probability[crop])
                stds.append(ens.std[crop])
            else:
                y = chunk * 2 - 1
                den = ModelDenoiser(network, process, parameterization, y=y, cond={"cond_image": y}, guidance=guidance)
                x = sample(den, process, y=y, shape=tuple(y.shape), generator=generator, **opts).x
                outs.append(((x.clamp(-1, 1) + 1) / 2)[crop])
        return torch.cat(outs), (torch.cat(stds) if stds else None)

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
    ) -> dict[str, Any]:
        """Process ``input_dir``'s volumes into ``output_dir``; metrics against ``gt_dir`` if given."""
        dst = Path(output_dir)
        dst.mkdir(parents=True, exist_ok=True)
        sources = list_volumes(input_dir)
        refs = self._references(sources, gt_dir)
        spatial_dims = int(getattr(network, "spatial_dims", 2))
        rows: list[dict[str, Any]] = []
        for src in sources:
            vol = load_volume(src)
            window = self.window or IntensityWindow.from_percentiles(vol.data, *self.percentiles, source=vol.source)
            unit = Volume(window.normalize(vol.data), vol.affine, vol.spacing, vol.source)
            if spatial_dims == 3 and vol.data.ndim != 3:
                raise DataValidationError(f"{vol.source}: a 3-D model needs a 3-D volume, got shape {vol.data.shape}")
            u = self._inputs(unit.data, spatial_dims)
            out, std = self.process(u, network, process, parameterization, sampler or {}, generator)
            arr = self._to_volume(out, vol.data.ndim, spatial_dims)
            stem = volume_stem(src)
            if self.output == "mask":
                save_nifti((arr > 0.5).astype(np.uint8), vol.affine, dst / f"{stem}.nii.gz", np.uint8)
                assert std is not None
                save_nifti(self._to_volume(std, vol.data.ndim, spatial_dims), vol.affine, dst / f"{stem}_std.nii.gz")
            else:
                save_nifti(window.denormalize(arr), vol.affine, dst / f"{stem}.nii.gz")
            (dst / f"{stem}.json").write_text(json.dumps({"source": vol.source, "window": window.to_dict()}))
            if stem in refs:
                rows.append({"volume": stem, **self._metrics(arr, refs[stem], window, vol, spatial_dims)})
        summary = self._write_metrics(rows, dst)
        return {"restored": len(sources), "output_dir": dst, "metrics": summary}

    @staticmethod
    def _references(sources: list[Path], gt_dir: str | os.PathLike[str] | None) -> dict[str, Path]:
        if gt_dir is None:
            return {}
        gt = Path(gt_dir)
        if not gt.is_dir():
            raise DataValidationError(f"{gt}: ground truth folder not found")
        refs = {volume_stem(p): p for p in list_volumes(gt)}
        missing = [str(s) for s in sources if volume_stem(s) not in refs]
        if missing:
            raise DataValidationError(f"{gt}: no ground truth for {', '.join(missing)}")
        return refs

    def _metrics(
        self, arr: np.ndarray, ref_path: Path, window: IntensityWindow, vol: Volume, spatial_dims: int
    ) -> dict[str, float]:
        ref = load_volume(ref_path)
        if ref.data.shape != vol.data.shape:
            raise DataValidationError(
                f"{ref_path}: shape {ref.data.shape} differs from {vol.source} ({vol.data.shape})"
            )
        pred = self._inputs(arr, spatial_dims)  # axial slices as a batch (2-D models), or the volume
        if self.output == "mask":
            target = self._inputs(validate_mask(ref.data, str(ref_path)).astype(np.float32), spatial_dims)
            return segmentation_metrics((pred > 0.5).float(), target)
        return reconstruction_metrics(pred, self._inputs(window.normalize(ref.data), spatial_dims))

    @staticmethod
    def _write_metrics(rows: list[dict[str, Any]], dst: Path) -> dict[str, float] | None:
        if not rows:
            return None
        keys = [k for k in rows[0] if k != "volume"]
        mean = {k: float(np.nanmean([r[k] for r in rows])) for k in keys}
        with open(dst / "metrics.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["volume", *keys])
            writer.writeheader()
            writer.writerows([{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows])
            writer.writerow({"volume": "mean", **{k: round(v, 4) for k, v in mean.items()}})
        return mean
