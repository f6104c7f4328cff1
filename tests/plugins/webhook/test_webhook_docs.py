"""The worked example of docs/plugins/webhook.md is what the adapter does (tests/test_docs.py
reads docs/*.md only)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from slarules_webhook import FieldMapping, load_mapping

PAGE = Path(__file__).resolve().parents[3] / "docs" / "plugins" / "webhook.md"
BLOCK = re.compile(r"^```(?P<kind>json|toml)\n(?P<text>.*?)^```", re.M | re.S)


def blocks() -> list[tuple[str, str]]:
    return [(m["kind"], m["text"]) for m in BLOCK.finditer(PAGE.read_text("utf-8"))]


def test_the_worked_example_gives_the_documented_events() -> None:
    (_, delivery), (_, mapping), (_, events), (_, toml) = blocks()[:4]
    payload: Any = json.loads(delivery)
    documented = [json.loads(line) for line in re.split(r"\n(?=\{)", events.strip())]

    read = load_mapping(mapping).to_events(payload)
    assert [event.model_dump(mode="json") for event in read] == documented
    assert FieldMapping.model_validate(tomllib.loads(toml)).to_events(payload) == read


def test_every_json_example_is_json() -> None:
    for kind, text in blocks():
        if kind == "json" and not text.lstrip().startswith('{"id": "acme-'):
            json.loads(text)
