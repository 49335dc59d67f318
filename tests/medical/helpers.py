"""Training a medical task briefly in-process (the learning tests' shared helper)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from hydra import compose, initialize_config_dir

from condiff.core.config_path import core_config_dir
from condiff.core.training.run import train

# Tiny settings shared by every learning test: 32 x 32 slices, a 2-level MONAI UNet of 16/32 channels.
TINY = [
    "logger=none", "resume=false", "trainer.enable_progress_bar=false", "export=false", "threads=1",
    "task.datamodule.size=32", "task.datamodule.batch_size=8", "+task.datamodule.train_length=800",
    "+task.datamodule.val_items=16", "module.num_val_samples=16", "module.lr=2e-3", "module.warmup_steps=30",
    "module.ema_decay=0.99", "trainer.check_val_every_n_epoch=1000", "task.network.channels=[16,32]",
]  # fmt: skip


def train_tiny(tmp: Path, experiment: str, steps: int, *overrides: str) -> dict[str, Any]:
    """Train ``experiment=medical/<experiment>`` for ``steps`` steps with :data:`TINY`; returns ``train``'s result
    with the composed config under ``cfg``."""
    with initialize_config_dir(config_dir=str(core_config_dir()), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[f"paths.output_dir={tmp}", f"experiment=medical/{experiment}", *TINY,
                       f"trainer.max_steps={steps}", *overrides],
        )  # fmt: skip
    result = train(cfg)
    result["cfg"] = cfg
    return result


def write_dicom_series(
    folder: Path,
    volume: np.ndarray,
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0),
    slope: float = 1.0,
    intercept: float = 0.0,
    shuffle: bool = False,
) -> list[Path]:
    """Write ``volume: (columns, rows, slices)`` as one MR DICOM file per axial slice (pixels
    ``(v - intercept) / slope`` rounded to uint16), slice ``k`` at ``origin + k * spacing[2]`` along z."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series = generate_uid()
    order = list(range(volume.shape[2]))
    if shuffle:
        order = order[::-1]
    paths = []
    for n, k in enumerate(order):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = pydicom.Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID, ds.SeriesInstanceUID = (
            MRImageStorage,
            meta.MediaStorageSOPInstanceUID,
            series,
        )
        ds.Modality = "MR"
        pixels = np.round((volume[:, :, k].T - intercept) / slope).astype(np.uint16)  # (rows, columns)
        ds.Rows, ds.Columns = pixels.shape
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.PixelSpacing = [spacing[1], spacing[0]]  # (row spacing, column spacing)
        ds.SliceThickness = spacing[2]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [origin[0], origin[1], origin[2] + k * spacing[2]]
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        ds.InstanceNumber = n + 1
        ds.PixelData = pixels.tobytes()
        path = folder / f"slice{n:03d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths
