"""Intensity windowing and normalisation recorded per volume, so that outputs map back to the input's units."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from condiff.core.errors import DataValidationError

# Common CT windows (level, width) in Hounsfield units.
CT_WINDOWS = {"soft_tissue": (40.0, 400.0), "brain": (40.0, 80.0), "lung": (-600.0, 1500.0), "bone": (400.0, 1800.0)}


@dataclass(frozen=True)
class IntensityWindow:
    """The window ``[low, high]`` of one volume: ``u = clip((v - low) / (high - low), 0, 1)`` and back
    ``v = low + u (high - low)`` (values outside the window are clipped, as in radiology viewers)."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.high > self.low:
            raise ValueError(f"IntensityWindow: need high > low, got [{self.low}, {self.high}]")

    @classmethod
    def from_percentiles(
        cls, data: np.ndarray, lower: float = 0.5, upper: float = 99.5, source: str = "volume"
    ) -> IntensityWindow:
        """The window between two percentiles of the voxels (MRI, whose units are arbitrary)."""
        lo, hi = (float(v) for v in np.percentile(np.asarray(data, dtype=np.float64), [lower, upper]))
        if not hi > lo:
            raise DataValidationError(
                f"{source}: constant intensities ({lo}) between the {lower} and {upper} percentiles; nothing to show"
            )
        return cls(lo, hi)

    @classmethod
    def ct(cls, name: str = "soft_tissue") -> IntensityWindow:
        """A named CT window of :data:`CT_WINDOWS` (level +- width / 2, Hounsfield units)."""
        if name not in CT_WINDOWS:
            raise ValueError(f"IntensityWindow.ct: unknown window {name!r}; expected one of {sorted(CT_WINDOWS)}")
        level, width = CT_WINDOWS[name]
        return cls(level - width / 2, level + width / 2)

    def normalize(self, data: np.ndarray) -> np.ndarray:
        """``clip((v - low) / (high - low), 0, 1)`` as float32."""
        return np.clip((np.asarray(data, dtype=np.float32) - self.low) / (self.high - self.low), 0.0, 1.0)

    def denormalize(self, unit: np.ndarray) -> np.ndarray:
        """``low + u (high - low)``."""
        return (self.low + np.asarray(unit, dtype=np.float64) * (self.high - self.low)).astype(np.float32)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)
