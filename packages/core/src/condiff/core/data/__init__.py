"""Data utilities shared by every task."""

from condiff.core.data.sampler import EpochSeededSampler

__all__ = ["EpochSeededSampler"]
