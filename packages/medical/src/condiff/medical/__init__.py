"""condiff-medical: conditional diffusion for medical image denoising, reconstruction and segmentation (MONAI)."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"


def config_dir() -> Path | None:
    """This package's Hydra config folder (bundled in the wheel, else the repository's ``configs/``)."""
    from condiff.core.config_path import package_config_dir

    return package_config_dir(__file__)
