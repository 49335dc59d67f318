"""Reading and writing medical volumes: NIfTI (nibabel / MONAI), DICOM series (pydicom), and their validator."""

from condiff.medical.io.dicom import load_dicom_series
from condiff.medical.io.nifti import load_nifti, save_nifti
from condiff.medical.io.validate import validate_mask, validate_volume
from condiff.medical.io.volume import Volume, list_volumes, load_volume, volume_stem

__all__ = [
    "Volume",
    "list_volumes",
    "load_dicom_series",
    "load_nifti",
    "load_volume",
    "save_nifti",
    "validate_mask",
    "validate_volume",
    "volume_stem",
]
