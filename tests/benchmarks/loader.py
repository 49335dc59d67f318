"""Load a benchmark script (``benchmarks/<name>.py``, not a package) as a module for its tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_benchmark(repo_root: Path, name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as module ``condiff_bench_<name>`` (registered in ``sys.modules``, which
    dataclasses need to resolve annotations)."""
    spec = importlib.util.spec_from_file_location(f"condiff_bench_{name}", repo_root / "benchmarks" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
