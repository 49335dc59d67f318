"""Built-in medical data, degradations, intensity windows and the data module."""

from condiff.medical.data.datamodule import MedicalDataModule, SlicePairs, to_batch
from condiff.medical.data.degradations import (
    KspaceUndersampling,
    LowDoseCT,
    RicianNoise,
    SparseViewCT,
    make_degradation,
)
from condiff.medical.data.intensity import IntensityWindow

__all__ = [
    "IntensityWindow",
    "KspaceUndersampling",
    "LowDoseCT",
    "MedicalDataModule",
    "RicianNoise",
    "SlicePairs",
    "SparseViewCT",
    "make_degradation",
    "to_batch",
]
