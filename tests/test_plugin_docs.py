"""The plugin author guide runs, and every hook is documented there and exercised by a test."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from slarules import hookspecs

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins" / "index.md"
RUNNABLE = re.compile(r"^```python runnable\n(?P<code>.*?)^```", re.M | re.S)
HOOKS = sorted(name for name in vars(hookspecs) if name.startswith("slarules_"))


def test_the_guides_adapter_runs_end_to_end(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = "\n".join(match["code"] for match in RUNNABLE.finditer(GUIDE.read_text("utf-8")))
    module = types.ModuleType("acme_desk_guide")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    exec(compile(code, str(GUIDE), "exec"), module.__dict__)
    assert capsys.readouterr().out == "tagged ticket 42 after one retry\n"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section_in_the_guide(hook: str) -> None:
    section = re.search(
        rf"^### {hook}\n\n```python\ndef {hook}\(.*?\n```\n\n(?P<prose>.+?)(?=^### |^## )",
        GUIDE.read_text("utf-8"),
        re.M | re.S,
    )
    assert section, f"docs/plugins/index.md has no `### {hook}` section with its signature"
    assert "Called" in section["prose"], f"the section of {hook} does not say when it is called"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_implemented_in_a_test(hook: str) -> None:
    """A hook implemented by a test plugin (or a spec type its registration hook returns)."""
    this = Path(__file__).resolve()
    implemented = re.compile(rf"\b(def {hook}\(|{hook}=)")
    tests = [path for path in (ROOT / "tests").rglob("*.py") if path != this]
    sources = ROOT / "slarules" / "testing"
    files = [*tests, *sources.rglob("*.py")]
    assert any(implemented.search(path.read_text("utf-8")) for path in files), hook
