"""Turn condiff's own errors into a one-line message and exit code 2 instead of a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from condiff.core.errors import CondiffError


def run_reporting_errors(fn: Callable[..., Any], *args: Any) -> Any:
    """Call ``fn``; a :class:`CondiffError` prints ``error: <message>`` and exits with status 2.

    Set ``CONDIFF_TRACEBACK=1`` to see the full traceback instead.
    """
    if os.environ.get("CONDIFF_TRACEBACK"):
        return fn(*args)
    try:
        return fn(*args)
    except CondiffError as e:
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        sys.exit(2)
