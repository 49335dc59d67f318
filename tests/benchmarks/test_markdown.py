"""``benchmarks/_markdown.py``: the generated block between two markers is replaced, the rest kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.benchmarks.loader import load_benchmark


def test_replace_block(repo_root: Path, tmp_path: Path) -> None:
    module = load_benchmark(repo_root, "_markdown")
    doc = tmp_path / "doc.md"
    doc.write_text("a\n<!-- s -->\nold\nold\n<!-- e -->\nb\n")
    module.replace_block(doc, "<!-- s -->", "<!-- e -->", "new | $1 \\1")
    assert doc.read_text() == "a\n<!-- s -->\nnew | $1 \\1\n<!-- e -->\nb\n"
    with pytest.raises(SystemExit, match="markers"):
        module.replace_block(doc, "<!-- x -->", "<!-- e -->", "t")
