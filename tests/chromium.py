"""Real headless Chromium (Debian's ``chromium``, installed by ``.ci/run``) for page tests.

``--dump-dom`` prints the document after its scripts ran; ``--screenshot`` writes a PNG. The
flags are those that keep Chromium off the network on a closed machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium() -> str:
    """The browser's path; skips the test where it is not installed, but fails where
    ``.ci/run`` installed it (``SLARULES_CHROMIUM_REQUIRED=1``), so that a browser gone missing
    is never mistaken for a pass."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("SLARULES_CHROMIUM_REQUIRED") == "1":
            pytest.fail("chromium was installed by .ci/run but is not on the PATH")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    return found


def _run(url: str, *arguments: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [chromium(), *_FLAGS, f"--user-data-dir={profile}", *arguments, url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dump_dom(url: str, budget_ms: int = 3000) -> str:
    """The page's DOM after its scripts had ``budget_ms`` of virtual time to run."""
    return _run(url, f"--virtual-time-budget={budget_ms}", "--dump-dom")


def screenshot(url: str, path: Path, size: tuple[int, int] = (1280, 1000)) -> Path:
    _run(url, f"--window-size={size[0]},{size[1]}", f"--screenshot={path}",
         "--virtual-time-budget=3000")  # fmt: skip
    assert path.stat().st_size > 10_000, "the screenshot is (nearly) empty"
    return path
