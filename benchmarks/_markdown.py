"""Shared by the benchmark scripts: replace the generated block between two markers of a Markdown page.

The scripts run as ``python benchmarks/<name>.py`` (this folder is then on ``sys.path``) and are loaded by file
path in the tests (which put this folder on ``sys.path`` first).
"""

from __future__ import annotations

import re
from pathlib import Path


def replace_block(doc: Path, start: str, end: str, text: str) -> None:
    """Write ``start\\ntext\\nend`` in place of the block between the markers; both must be present."""
    page = doc.read_text()
    if start not in page or end not in page:
        raise SystemExit(f"{doc}: markers {start} / {end} not found")
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    doc.write_text(pattern.sub(lambda _: f"{start}\n{text}\n{end}", page))
