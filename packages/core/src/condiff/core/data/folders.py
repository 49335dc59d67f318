"""Pairing a folder of user inputs with an optional folder of references by file stem (`condiff-sample`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from condiff.core.errors import DataValidationError


def paired_files(
    input_dir: str | os.PathLike[str],
    reference_dir: str | os.PathLike[str] | None,
    suffixes: Iterable[str],
    *,
    kind: str = "files",
    reference: str = "ground-truth",
) -> tuple[list[Path], dict[str, Path]]:
    """The sorted input files with one of ``suffixes`` and, if ``reference_dir`` is given, the reference file of
    each input stem.

    Raises :class:`DataValidationError` naming the folder when a folder is missing, there is no input, or
    an input has no reference (every such input listed).
    """
    suffixes = tuple(s.lower() for s in suffixes)
    src = Path(input_dir)
    if not src.is_dir():
        raise DataValidationError(f"{src}: input folder not found")
    files = sorted(p for p in src.iterdir() if p.suffix.lower() in suffixes)
    if not files:
        raise DataValidationError(f"{src}: no {kind} ({', '.join(suffixes)})")
    refs: dict[str, Path] = {}
    if reference_dir is not None:
        ref_dir = Path(reference_dir)
        if not ref_dir.is_dir():
            raise DataValidationError(f"{ref_dir}: {reference} folder not found")
        refs = {p.stem: p for p in ref_dir.iterdir() if p.suffix.lower() in suffixes}
        missing = [str(f) for f in files if f.stem not in refs]
        if missing:
            raise DataValidationError(f"{ref_dir}: no {reference} for {', '.join(missing)}")
    return files, refs
