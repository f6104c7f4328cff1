"""The JSON shapes LiveAgent's API documents, checked where they are read: a value of another
kind is a PayloadError naming where, never a TypeError deep in the adapter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slarules.errors import PayloadError


def json_object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PayloadError(where, f"expected a JSON object, got {_kind(value)}")
    return value


def json_list(value: object, where: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise PayloadError(where, f"expected a JSON list, got {_kind(value)}")
    return value


def code(value: object, where: str) -> str | None:
    """A LiveAgent code (a letter or a number, as text), or ``None`` where there is none."""
    if value is not None and not isinstance(value, str):
        raise PayloadError(where, f"expected a LiveAgent code as text, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    kinds = {dict: "an object", list: "a list", str: "text", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")
