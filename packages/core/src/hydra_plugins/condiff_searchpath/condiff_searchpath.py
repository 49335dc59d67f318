"""Hydra search-path plugin: adds the config folders of every installed condiff package."""

from __future__ import annotations

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class CondiffSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from condiff.core.config_path import all_config_dirs

        for d in all_config_dirs():
            search_path.append(provider="condiff", path=f"file://{d}")
