"""Sequence sets with activity labels from FASTA or CSV files (the enhancer data of DRAKES is a CSV of
sequences and per-cell-line activities), checked against an alphabet.

FASTA: ``>name [label]`` headers (the label, when present, is the last whitespace-separated field and must
be a number), sequence lines below. CSV: a ``sequence`` column (name configurable) and optionally a label
column. Characters outside the alphabet (case-insensitive) are an error naming the file, line and character.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from condiff.core.errors import DataValidationError

DNA = "ACGT"
PROTEIN = "ACDEFGHIKLMNPQRSTVWY"


@dataclass
class SequenceSet:
    """``tokens (N, L)`` (equal lengths), optional ``labels (N,)`` and the record ``names``."""

    tokens: Tensor
    labels: Tensor | None
    names: list[str]


def encode(seq: str, alphabet: str, where: str) -> list[int]:
    index = {c: i for i, c in enumerate(alphabet)}
    out = []
    for pos, c in enumerate(seq.upper(), start=1):
        if c not in index:
            raise DataValidationError(f"{where}: character {c!r} at position {pos} is not in the alphabet {alphabet}")
        out.append(index[c])
    return out


def decode(tokens: Tensor, alphabet: str) -> list[str]:
    return ["".join(alphabet[int(i)] for i in row) for row in tokens]


def _stack(rows: list[list[int]], path: Path) -> Tensor:
    lengths = {len(r) for r in rows}
    if not rows:
        raise DataValidationError(f"{path}: no sequences")
    if len(lengths) != 1:
        raise DataValidationError(f"{path}: sequences have different lengths {sorted(lengths)[:5]}; crop or pad them")
    return torch.tensor(rows, dtype=torch.long)


def read_fasta(path: str | Path, alphabet: str = DNA) -> SequenceSet:
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    names: list[str] = []
    labels: list[float | None] = []
    rows: list[list[int]] = []
    current: list[str] = []
    start_line = 0

    def flush() -> None:
        if names:
            rows.append(encode("".join(current), alphabet, f"{path}, record starting at line {start_line}"))

    for line_no, raw in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(">"):
            flush()
            current, start_line = [], line_no
            fields = line[1:].split()
            label = None
            if len(fields) > 1:
                try:
                    label = float(fields[-1])
                except ValueError as e:
                    raise DataValidationError(f"{path}, line {line_no}: label {fields[-1]!r} is not a number") from e
            names.append(fields[0] if fields else f"record{len(names)}")
            labels.append(label)
        elif not names:
            raise DataValidationError(f"{path}, line {line_no}: sequence before the first '>' header (not FASTA)")
        else:
            current.append(line)
    flush()
    tokens = _stack(rows, path)
    has = [v is not None for v in labels]
    if any(has) and not all(has):
        raise DataValidationError(f"{path}: some headers carry a label and some do not")
    return SequenceSet(tokens, torch.tensor(labels, dtype=torch.float32) if all(has) else None, names)


def read_csv(
    path: str | Path, alphabet: str = DNA, sequence_column: str = "sequence", label_column: str | None = None
) -> SequenceSet:
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: file not found")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        for col in (sequence_column, label_column):
            if col is not None and col not in fields:
                raise DataValidationError(f"{path}: no column {col!r} (columns: {fields})")
        rows, labels, names = [], [], []
        for line_no, rec in enumerate(reader, start=2):
            rows.append(encode(rec[sequence_column].strip(), alphabet, f"{path}, line {line_no}"))
            names.append(str(line_no))
            if label_column is not None:
                try:
                    labels.append(float(rec[label_column]))
                except ValueError as e:
                    raise DataValidationError(
                        f"{path}, line {line_no}: label {rec[label_column]!r} is not a number"
                    ) from e
    tokens = _stack(rows, path)
    return SequenceSet(tokens, torch.tensor(labels, dtype=torch.float32) if label_column else None, names)
