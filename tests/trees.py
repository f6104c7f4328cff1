"""Comparing syntax trees parsed from different layouts of the same policy file."""

from __future__ import annotations

from typing import Any

from slarules.dsl.parser import parse_module


def strip_spans(value: Any) -> Any:
    """A dumped tree without positions."""
    if isinstance(value, dict):
        return {key: strip_spans(item) for key, item in value.items() if key != "span"}
    if isinstance(value, list):
        return [strip_spans(item) for item in value]
    return value


def tree(text: str) -> Any:
    """The tree of ``text`` as JSON-like data, without positions."""
    return strip_spans(parse_module(text).model_dump(mode="json"))
