"""Hatch build hook: put this package's slice of the repository's ``configs/`` tree into the wheel.

The repository keeps one Hydra config tree at ``<repo>/configs``; each wheel
carries the files that its ``include`` globs select, at ``condiff/<pkg>/configs``.
An sdist carries them at the same place inside ``src/``, so a wheel built from
the sdist finds them there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ConfigSliceHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        pkg = self.config.get("package", "core")
        bundled = root / "src" / "condiff" / pkg / "configs"
        repo_configs = root.parent.parent / "configs"
        if version == "editable":
            return  # an editable install reads the repository's configs/ in place
        if bundled.is_dir() or not repo_configs.is_dir():
            return  # building from an sdist that already carries the slice
        files: set[Path] = set()
        for pattern in self.config.get("include", []):
            files.update(p for p in repo_configs.glob(pattern) if p.is_file())
        if not files:
            raise RuntimeError(f"config slice of {root} selects no file under {repo_configs}")
        prefix = f"src/condiff/{pkg}/configs" if self.target_name == "sdist" else f"condiff/{pkg}/configs"
        for f in sorted(files):
            build_data["force_include"][str(f)] = f"{prefix}/{f.relative_to(repo_configs).as_posix()}"
