"""``benchmarks/_markdown.py``: the generated block between two markers is replaced, the rest kept."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def test_replace_block(repo_root: Path, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("condiff_bench_markdown", repo_root / "benchmarks" / "_markdown.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    doc = tmp_path / "doc.md"
    doc.write_text("a\n<!-- s -->\nold\nold\n<!-- e -->\nb\n")
    module.replace_block(doc, "<!-- s -->", "<!-- e -->", "new | $1 \\1")
    assert doc.read_text() == "a\n<!-- s -->\nnew | $1 \\1\n<!-- e -->\nb\n"
    with pytest.raises(SystemExit, match="markers"):
        module.replace_block(doc, "<!-- x -->", "<!-- e -->", "t")
