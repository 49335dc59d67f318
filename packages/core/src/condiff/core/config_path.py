"""Where condiff's Hydra configs live: inside installed wheels, or the repository's ``configs/``.

Each condiff package registers an entry point in the group ``condiff.configs``
naming a function that returns its config folder. A wheel carries its slice of
the config tree in ``condiff/<package>/configs``; an editable install from the
repository has no such folder and uses the repository's one ``configs/`` tree.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path


def package_config_dir(package_file: str) -> Path | None:
    """Config folder of the package whose ``__init__`` is ``package_file``: bundled, else the repo tree."""
    pkg = Path(package_file).resolve().parent
    bundled = pkg / "configs"
    if (bundled / "train.yaml").is_file() or bundled.is_dir():
        return bundled
    for parent in pkg.parents:
        candidate = parent / "configs"
        if (candidate / "train.yaml").is_file() and (parent / "packages").is_dir():
            return candidate
    return None


def core_config_dir() -> Path | None:
    """The config folder of condiff-core."""
    import condiff.core

    return package_config_dir(condiff.core.__file__)


def all_config_dirs() -> list[Path]:
    """Config folders of every installed condiff package, core first, without duplicates."""
    dirs: list[Path] = []
    for ep in sorted(entry_points(group="condiff.configs"), key=lambda e: (e.name != "core", e.name)):
        try:
            d = ep.load()()
        except Exception as e:  # a broken package must not hide the others' configs silently
            raise RuntimeError(f"condiff config entry point {ep.name!r} ({ep.value}) failed: {e}") from e
        if d is not None and d not in dirs:
            dirs.append(Path(d))
    core = core_config_dir()
    if core is not None and core not in dirs:
        dirs.insert(0, core)
    return dirs
