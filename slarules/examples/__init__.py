"""The example policy file that ships with slarules: `slarules demo` runs it."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

__all__ = ["example_policy_path", "example_policy_text"]


def example_policy_text() -> str:
    return files(__package__).joinpath("support.sla").read_text(encoding="utf-8")


def example_policy_path() -> Path:
    """The file on disk (a wheel installs it as a plain file next to this module)."""
    with as_file(files(__package__).joinpath("support.sla")) as path:
        return Path(path)
