"""Molecule data: the built-in QM9-like set from RDKit's NCI sample, MOSES from its wheel, QM9 / ZINC250k CSVs.

Every reader keeps the line number of each SMILES: an invalid line raises :class:`DataValidationError`
naming the file and the line, unless ``skip_invalid=True`` (then the skipped lines are returned).
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rdkit import Chem, RDConfig

from condiff.core.errors import DataValidationError
from condiff.molecules.chem.convert import ATOM_SETS, canonical_smiles

NCI_FILE = Path(RDConfig.RDDataDir) / "NCI" / "first_5K.smi"


@dataclass
class SmilesSet:
    """Canonical SMILES read from ``source`` and the ``(line, text, reason)`` of every skipped line."""

    smiles: list[str]
    source: str
    skipped: list[tuple[int, str, str]] = field(default_factory=list)


def _fits(mol: Chem.Mol, atoms: Sequence[str], max_atoms: int) -> str | None:
    """Why ``mol`` is outside the set (``None`` if it fits): size, vocabulary, charge, radicals, fragments."""
    if mol.GetNumAtoms() > max_atoms:
        return f"{mol.GetNumAtoms()} heavy atoms > {max_atoms}"
    for a in mol.GetAtoms():
        if a.GetSymbol() not in atoms:
            return f"atom {a.GetSymbol()} not in {tuple(atoms)}"
        if a.GetFormalCharge() != 0 or a.GetNumRadicalElectrons() != 0:
            return "charged or radical atom"
    if len(Chem.GetMolFrags(mol)) != 1:
        return "more than one fragment"
    return None


def builtin_nci(atoms: Sequence[str] = ATOM_SETS["qm9"], max_atoms: int = 9) -> SmilesSet:
    """Molecules of RDKit's NCI sample (``first_5K.smi``, shipped in the RDKit wheel) that fit the vocabulary:
    at most ``max_atoms`` heavy atoms of ``atoms``, neutral, no radicals, one fragment; deduplicated.

    With the QM9 vocabulary and 9 atoms this is the QM9-like built-in set (412 molecules); with ZINC250k's
    vocabulary and 38 atoms a ZINC-like one.
    """
    if not NCI_FILE.is_file():
        raise DataValidationError(f"{NCI_FILE}: RDKit's NCI sample file is missing from this RDKit installation")
    seen: dict[str, None] = {}
    for line in NCI_FILE.read_text().splitlines():
        parts = line.split()
        mol = Chem.MolFromSmiles(parts[0]) if parts else None
        if mol is not None and _fits(mol, atoms, max_atoms) is None:
            seen.setdefault(canonical_smiles(mol), None)
    return SmilesSet(list(seen), str(NCI_FILE))


def builtin_qm9() -> SmilesSet:
    """The QM9-like built-in set: :func:`builtin_nci` with C, N, O, F and at most 9 heavy atoms."""
    return builtin_nci(ATOM_SETS["qm9"], 9)


def _parse(
    rows: Iterable[tuple[int, str]],
    source: str,
    skip_invalid: bool,
    atoms: Sequence[str] | None = None,
    max_atoms: int | None = None,
) -> SmilesSet:
    out, skipped = [], []
    for line, text in rows:
        mol = Chem.MolFromSmiles(text)
        reason = "RDKit cannot parse it" if mol is None else None
        if mol is not None and atoms is not None and max_atoms is not None:
            Chem.RemoveStereochemistry(mol)
            for a in mol.GetAtoms():  # GDSS encodes no charges (ZINC's [NH+], [O-] become neutral)
                a.SetFormalCharge(0)
                a.SetNoImplicit(False)
                a.SetNumExplicitHs(0)
            try:
                Chem.SanitizeMol(mol)
            except Exception:
                reason = "not a valid molecule once charges are removed"
            else:
                if mol.GetNumAtoms() > max_atoms or any(a.GetSymbol() not in atoms for a in mol.GetAtoms()):
                    reason = f"outside the vocabulary {tuple(atoms)} or more than {max_atoms} heavy atoms"
        if reason is not None:
            if not skip_invalid:
                raise DataValidationError(
                    f"{source}, line {line}: invalid SMILES {text!r} ({reason}); "
                    "pass skip_invalid=True to skip such lines"
                )
            skipped.append((line, text, reason))
            continue
        assert mol is not None
        out.append(canonical_smiles(mol))
    return SmilesSet(out, source, skipped)


def _csv_rows(text: str, source: str, column: str) -> list[tuple[int, str]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = reader.fieldnames or []
    match = [f for f in fields if f.strip().lower() == column.lower()]
    if not match:
        raise DataValidationError(f"{source}: no SMILES column {column!r} in the header {fields}")
    return [(i + 2, row[match[0]].strip()) for i, row in enumerate(reader) if row.get(match[0])]


def read_smiles_csv(
    path: str | Path,
    column: str = "smiles",
    skip_invalid: bool = False,
    atoms: Sequence[str] | None = None,
    max_atoms: int | None = None,
) -> SmilesSet:
    """SMILES from a CSV file (optionally gzipped) with a header naming ``column`` (case-insensitive).

    QM9 (``qm9.csv`` of MoleculeNet/GDSS: column ``SMILES1``) and ZINC250k (``250k_rndm_zinc_drugs_clean_3.csv``:
    column ``smiles``) come in this form. With ``atoms``/``max_atoms``, charges are dropped as GDSS does and
    molecules outside the vocabulary count as invalid lines.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: SMILES file not found")
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as e:
        raise DataValidationError(f"{path}: not a readable UTF-8 CSV file ({e})") from e
    return _parse(_csv_rows(text, str(path), column), str(path), skip_invalid, atoms, max_atoms)


def read_smiles_lines(path: str | Path, skip_invalid: bool = False) -> SmilesSet:
    """SMILES from a text file, one per line (first whitespace-separated field; blank lines ignored)."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: SMILES file not found")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataValidationError(f"{path}: not a readable UTF-8 text file ({e})") from e
    rows = [(i + 1, ln.split()[0]) for i, ln in enumerate(lines) if ln.strip()]
    return _parse(rows, str(path), skip_invalid)


def moses_from_wheel(
    wheel: str | Path,
    split: str = "train",
    skip_invalid: bool = False,
    atoms: Sequence[str] | None = None,
    max_atoms: int | None = None,
) -> SmilesSet:
    """MOSES SMILES read from inside a ``molsets`` wheel (``moses/dataset/data/<split>.csv.gz``), not installed.

    Get the wheel (51.6 MB; train 1.58 M, test 176 k SMILES) without installing it or its old pinned
    dependencies: ``pip download --no-deps molsets==0.3.1``. ``atoms``/``max_atoms`` as for :func:`read_smiles_csv`.
    """
    wheel = Path(wheel)
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = [n for n in zf.namelist() if n.endswith(f"/{split}.csv.gz") or n.endswith(f"/{split}.csv")]
            if not names:
                raise DataValidationError(f"{wheel}: no MOSES split {split!r} inside (found no */{split}.csv[.gz])")
            raw = zf.read(names[0])
    except (OSError, zipfile.BadZipFile) as e:
        raise DataValidationError(f"{wheel}: not a readable wheel file ({e})") from e
    text = (gzip.decompress(raw) if names[0].endswith(".gz") else raw).decode("utf-8")
    source = f"{wheel}!{names[0]}"
    return _parse(_csv_rows(text, source, "SMILES"), source, skip_invalid, atoms, max_atoms)
