"""`slarules new-plugin` writes a distribution whose own tests pass once it is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from slarules.cli import main


def test_new_plugin_refuses_bad_names_and_existing_folders(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new-plugin", "Acme-Desk", "--directory", str(tmp_path)])
    assert result.exit_code == 1
    assert "`Acme-Desk` is not a plugin name" in result.output
    CliRunner().invoke(main, ["new-plugin", "acme", "--directory", str(tmp_path)])
    again = CliRunner().invoke(main, ["new-plugin", "acme", "--directory", str(tmp_path)])
    assert "already exists" in again.output


@pytest.mark.slow
def test_the_scaffolded_adapter_installs_and_its_tests_pass(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["new-plugin", "acme_desk", "--directory", str(tmp_path)])
    assert result.exit_code == 0, result.output
    root = tmp_path / "slarules-acme-desk"
    site = tmp_path / "site"
    # Installed as pip installs it (a wheel, its entry points in .dist-info), into a folder of
    # its own so that this test environment keeps its plugins.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(site), str(root)],
        check=True,
    )  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": str(site)}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout
