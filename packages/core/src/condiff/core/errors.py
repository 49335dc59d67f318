"""Specific errors raised at condiff's public boundaries.

Each error names the file, key or index involved, what was expected and what
was found, so that a user can fix the input without reading the code.
"""

from __future__ import annotations


class CondiffError(Exception):
    """Base class of every error condiff raises on purpose."""


class CheckpointError(CondiffError):
    """A checkpoint or weights file is missing, truncated, foreign or unsafe."""


class ConfigError(CondiffError, ValueError):
    """A configuration key is unknown or holds a bad value."""


class DataValidationError(CondiffError, ValueError):
    """A data file or array is corrupt, has the wrong format, shape or values."""
