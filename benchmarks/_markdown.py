"""Shared by the benchmark scripts: replace the generated block between two markers of a Markdown page.

The scripts run as ``python benchmarks/<name>.py`` (this folder is then on ``sys.path[0]``); the tests load
them by file path, so each script puts its own folder on ``sys.path`` before importing this module.
"""

from __future__ import annotations

import re
from pathlib import Path


def replace_block(doc: Path, start: str, end: str, text: str, *, append: bool = False) -> None:
    """Write ``start\\ntext\\nend`` in place of the block between the markers.

    Without both markers: with ``append`` the block is appended (the file created if missing), otherwise
    ``SystemExit`` names the file and the markers.
    """
    page = doc.read_text() if doc.is_file() else ""
    block = f"{start}\n{text}\n{end}"
    if start in page and end in page:
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
        doc.write_text(pattern.sub(lambda _: block, page, count=1))
    elif append:
        doc.write_text((page.rstrip("\n") + "\n\n" if page.strip() else "") + block + "\n")
    else:
        raise SystemExit(f"{doc}: markers {start} / {end} not found")
