"""A wheel build hook that keeps compiled modules out of the source tree (see pyproject.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompiledModulesOutOfTheTree(BuildHookInterface):  # type: ignore[type-arg]
    """hatch-mypyc compiles in place and ships the extension modules from the source tree. Left
    there, they would shadow the sources they were compiled from in an editable install, edits
    and all; so they go before every build of a wheel (a build that stopped half way may have left
    some) and after it."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._remove_compiled_modules()

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        self._remove_compiled_modules()

    def _remove_compiled_modules(self) -> None:
        root = Path(self.root)
        for pattern in ("*__mypyc.*.so", "*__mypyc.*.pyd", "slarules/*.so", "slarules/*.pyd"):
            for path in root.glob(pattern):
                path.unlink()
