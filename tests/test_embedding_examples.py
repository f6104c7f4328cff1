"""The complete programs of docs/embedding.md run, and their assertions hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "embedding.md"
RUNNABLE = re.compile(r"^```python runnable\n(?P<code>.*?)^```", re.M | re.S)
PROGRAMS = [match["code"] for match in RUNNABLE.finditer(PAGE.read_text(encoding="utf-8"))]


def test_the_page_has_both_examples() -> None:
    assert len(PROGRAMS) == 2


@pytest.mark.parametrize("code", PROGRAMS, ids=["plain script", "django style"])
def test_embedding_example_runs(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, str(PAGE), "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out
