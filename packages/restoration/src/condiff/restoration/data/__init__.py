"""Restoration data: degradations, built-in photographs, paired folders."""

from condiff.restoration.data.datamodule import RestorationDataModule
from condiff.restoration.data.degradations import make_degradation
from condiff.restoration.data.paired import PairedFolderDataset, validate_paired_folder

__all__ = ["PairedFolderDataset", "RestorationDataModule", "make_degradation", "validate_paired_folder"]
