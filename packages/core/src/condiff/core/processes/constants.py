"""The constants that define a process (T, sigma_inf, schedules, ...), stored with a model and checked at use.

A model is only valid on the path it was trained on: the checkpoint and the export store
:func:`process_constants` of the training process, and :func:`check_process_constants` turns any
disagreement of a later config (resuming, sampling) into an error naming the keys, instead of a
silent mismatch.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import torch

from condiff.core.errors import ConfigError

_SCALARS = (bool, int, float, str)


def _plain(value: Any) -> Any:
    """A JSON-able form of one attribute, or ``None`` for attributes that are not constants."""
    if isinstance(value, _SCALARS) or value is None:
        return value
    if isinstance(value, torch.Tensor):
        v = value.detach().to("cpu", torch.float64).contiguous()
        if v.numel() <= 16:
            return [float(x) for x in v.flatten()]
        return "sha256:" + hashlib.sha256(v.numpy().tobytes()).hexdigest()[:16]
    if isinstance(value, list | tuple) and all(isinstance(x, _SCALARS) for x in value):
        return list(value)
    if hasattr(value, "coefficients"):  # a component process (product, projected)
        return process_constants(value)
    if isinstance(value, list | tuple) and all(hasattr(x, "coefficients") for x in value):
        return [process_constants(x) for x in value]
    return None


def process_constants(process: Any) -> dict[str, Any]:
    """``{"class": name, <constant>: value, ...}`` of a process: its scalar, string and table attributes."""
    out: dict[str, Any] = {"class": type(process).__name__}
    for key, value in sorted(vars(process).items()):
        if key.startswith("_") and not isinstance(value, torch.Tensor):  # private tables define the path too
            continue
        plain = _plain(value)
        if plain is not None:
            out[key] = plain
    return out


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int) and (isinstance(a, float) or isinstance(b, float)):
        return not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return any(_differs(x, z) for x, z in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return bool(_diff(a, b))
    return bool(a != b)


def _diff(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    keys = sorted(set(stored) | set(current))
    return [k for k in keys if _differs(stored.get(k), current.get(k))]


def check_process_constants(stored: dict[str, Any], process: Any, where: str, key: str = "sde") -> None:
    """Raise :class:`ConfigError` naming every constant of ``process`` that disagrees with ``stored``.

    Args:
        stored: :func:`process_constants` of the process the model was trained with.
        process: the process a config asks to use now.
        where: the file the constants were stored in (for the message).
        key: the config key of the process (for the message).
    """
    current = process_constants(process)
    bad = _diff(stored, current)
    if bad:
        pairs = ", ".join(f"{key}.{k}={current.get(k)!r} (trained: {stored.get(k)!r})" for k in bad)
        raise ConfigError(
            f"config key '{key}' disagrees with the process the model was trained with, stored in {where}: {pairs}. "
            "A model is only valid on its training process; remove the override."
        )
