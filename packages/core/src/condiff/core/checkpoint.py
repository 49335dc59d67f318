"""Safe, atomic checkpoint I/O and safetensors export.

Every load uses ``torch.load(weights_only=True)``: a file that would run code
when unpickled is refused. Every write goes to a temporary file in the target
folder and is renamed into place, so a kill mid-write never leaves a torn file.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.checkpoint_io import CheckpointIO

from condiff.core.errors import CheckpointError

PathLike = str | os.PathLike[str]


def publish(tmp: Path, path: Path) -> Path:
    """Rename ``tmp`` onto ``path`` with ordinary file permissions (0666 less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)
    return path


def atomic_write_bytes(data: bytes, path: PathLike) -> Path:
    """Write ``data`` to ``path`` via a temporary file, fsync and rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def safe_torch_load(path: PathLike, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(path, weights_only=True)`` with a :class:`CheckpointError` naming ``path`` on failure."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: checkpoint file is empty")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"{path}: refused to load: the file holds objects other than tensors and plain containers "
            f"(a pickle that could run code, or not a condiff checkpoint): {str(e).splitlines()[0]}"
        ) from e
    except (EOFError, RuntimeError, ValueError, OSError) as e:
        raise CheckpointError(f"{path}: truncated or corrupt checkpoint ({type(e).__name__}: {e})") from e


class AtomicCheckpointIO(CheckpointIO):
    """Lightning checkpoint I/O with atomic writes and ``weights_only`` loads."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: PathLike, storage_options: Any | None = None) -> None:
        buf = io.BytesIO()
        torch.save(checkpoint, buf)
        atomic_write_bytes(buf.getvalue(), path)

    def load_checkpoint(
        self, path: PathLike, map_location: Any | None = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        ckpt = safe_torch_load(path, map_location=map_location or "cpu")
        if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
            raise CheckpointError(f"{path}: not a Lightning checkpoint (no 'state_dict' entry)")
        return ckpt

    def remove_checkpoint(self, path: PathLike) -> None:
        p = Path(path)
        if p.exists():
            p.unlink()
