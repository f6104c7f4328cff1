"""Golden tests of the policy language.

* ``tests/language/valid/*.sla`` load without errors, and parse to the tree in the ``.json`` file
  next to them (spans included, so positions are tested too).
* ``tests/language/invalid/*.sla`` fail with exactly the diagnostics in the ``.err`` file next to
  them, as ``slarules check`` prints them.

After an intended change, ``SLARULES_UPDATE_GOLDEN=1 pytest tests/test_language_corpus.py``
rewrites the expected files; review the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slarules import PolicyError, load_policies
from slarules.dsl.diagnostics import CODES
from slarules.dsl.parser import parse_module

CORPUS = Path(__file__).parent / "language"
VALID = sorted((CORPUS / "valid").glob("*.sla"))
INVALID = sorted((CORPUS / "invalid").glob("*.sla"))
UPDATE = os.environ.get("SLARULES_UPDATE_GOLDEN") == "1"


def _golden(path: Path, actual: str) -> str:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", VALID, ids=lambda path: path.name)
def test_valid(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    relative = case.relative_to(CORPUS)
    load_policies(relative)
    tree = parse_module(case.read_text(encoding="utf-8"), str(relative))
    actual = tree.model_dump_json(indent=1) + "\n"
    assert actual == _golden(case.with_suffix(".json"), actual)


def render_failure(relative: Path) -> str:
    with pytest.raises(PolicyError) as raised:
        load_policies(relative)
    error = raised.value
    return "\n\n".join(d.render(error.sources.get(d.span.file)) for d in error.diagnostics) + "\n"


@pytest.mark.parametrize("case", INVALID, ids=lambda path: path.name)
def test_invalid(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    actual = render_failure(case.relative_to(CORPUS))
    assert actual == _golden(case.with_suffix(".err"), actual)
    for lark_word in ("Token(", "Tree(", "$END", "__ANON", "UnexpectedToken", "lark"):
        assert lark_word not in actual


def test_the_corpus_covers_every_code() -> None:
    seen = {
        code
        for case in INVALID
        for code in CODES
        if f"[{code}]" in case.with_suffix(".err").read_text(encoding="utf-8")
    }
    # SLA004 needs a file over 8 MB: test_language_limits covers it instead; SLA309 needs a
    # plugin's function: test_plugins covers it.
    assert sorted(set(CODES) - seen - {"SLA004", "SLA309"}) == []
    assert len(INVALID) >= 60
