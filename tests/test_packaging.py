"""The built wheel works on its own: grammar inside the package, console script installed.

Builds the wheel from this checkout, installs it into a fresh virtual environment (dependencies
come from the test environment through a ``.pth`` file, so no network is needed) and runs it from
a directory outside the checkout, so nothing can be picked up from the source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import NamedTuple

import pytest

from slarules import _cycle, _fields, _history, _ticket

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

PROBE = """
import json, slarules
from slarules._resources import grammar_file
from slarules.dsl.hours import parse_hours
print(json.dumps({
    "package": slarules.__file__,
    "grammar": str(grammar_file("slarules.lark")),
    "hours": parse_hours("mon-fri 09:00-17:00").spans,
}))
"""


class Installed(NamedTuple):
    wheel: Path
    bin: Path  # of the fresh virtual environment


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """A fresh virtual environment with the wheel installed."""
    work = tmp_path_factory.mktemp("wheel")
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", work, ROOT
    )
    (wheel,) = work.glob("slarules-*.whl")
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(
        sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel
    )
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    (Path(site) / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return Installed(wheel, venv / "bin")


def test_the_wheel_ships_the_grammar(installed: Installed) -> None:
    listing = _run(sys.executable, "-m", "zipfile", "-l", installed.wheel)
    assert "slarules/grammar/slarules.lark" in listing


def test_the_installed_package_loads_its_grammar(installed: Installed) -> None:
    probe = json.loads(_run(installed.bin / "python", "-c", PROBE, cwd=installed.bin))
    venv = str(installed.bin.parent)
    assert probe["package"].startswith(venv)
    assert probe["grammar"].startswith(venv)
    assert probe["grammar"].endswith("slarules/grammar/slarules.lark")
    assert probe["hours"] == ["09:00-17:00"]


def test_the_console_script_runs(installed: Installed) -> None:
    output = _run(
        installed.bin / "slarules", "calendar", "add", "--tz", "Europe/Berlin",
        "--hours", "mon-fri 09:00-17:00", "--holiday", "2026-12-25",
        "--start", "2026-12-24T16:00:00+01:00", "--duration", "2h",
        cwd=installed.bin,
    )  # fmt: skip
    assert output == "2026-12-28T10:00:00+01:00\n"


def test_the_tests_run_on_the_core_tox_built_for_them() -> None:
    # tox's `compiled` environment installs a wheel whose inner loop the mypyc build hook
    # compiled (pyproject.toml); a hook that quietly did nothing would leave it testing the
    # plain-Python core twice. SLARULES_CORE says which core tox installed.
    core = [_ticket, _cycle, _history, _fields]
    compiled = [module.__name__ for module in core if not str(module.__file__).endswith(".py")]
    expected = os.environ.get("SLARULES_CORE")
    if expected == "compiled":
        assert compiled == [module.__name__ for module in core]
    elif expected == "plain":
        assert compiled == []


def _run(*args: object, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, cwd=cwd, check=False
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout
