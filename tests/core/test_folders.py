"""Pairing user inputs with references by file stem: every problem names its folder or files."""

from __future__ import annotations

from pathlib import Path

import pytest

from condiff.core.data.folders import paired_files
from condiff.core.errors import DataValidationError


def test_pairs_by_stem_and_names_every_problem(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "ref").mkdir()
    for name in ("b.PNG", "a.png", "notes.txt"):
        (tmp_path / "in" / name).write_bytes(b"")
    for name in ("a.jpg", "b.png"):
        (tmp_path / "ref" / name).write_bytes(b"")
    files, refs = paired_files(tmp_path / "in", tmp_path / "ref", (".png", ".jpg"))
    assert [f.name for f in files] == ["a.png", "b.PNG"]
    assert {k: v.name for k, v in refs.items()} == {"a": "a.jpg", "b": "b.png"}
    assert paired_files(tmp_path / "in", None, (".png",))[1] == {}
    (tmp_path / "ref" / "b.png").unlink()
    with pytest.raises(DataValidationError, match=r"ref: no clean file for .*b\.PNG"):
        paired_files(tmp_path / "in", tmp_path / "ref", (".png",), reference="clean file")
    with pytest.raises(DataValidationError, match="nope: input folder not found"):
        paired_files(tmp_path / "nope", None, (".png",))
    with pytest.raises(DataValidationError, match=r"in: no images \(\.wav\)"):
        paired_files(tmp_path / "in", None, (".wav",), kind="images")
    with pytest.raises(DataValidationError, match="gone: ground-truth folder not found"):
        paired_files(tmp_path / "in", tmp_path / "gone", (".png",))
