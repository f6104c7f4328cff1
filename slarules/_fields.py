"""Ticket fields read by dotted paths, the same way by conditions and by reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def read_path(fields: Mapping[str, Any], keys: Sequence[str]) -> Any:
    """The value at a dotted path of ticket fields (``customer.tier``), or ``None``."""
    value: Any = fields
    for key in keys:
        # Objects within fields are JSON objects, dicts: the exact check comes first, as the
        # check for any Mapping takes a call of Python code and this runs in every condition.
        if not isinstance(value, dict) and not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def merge_fields(fields: dict[str, Any], changes: dict[str, Any]) -> None:
    """Apply a ``ticket.updated`` event's fields: an object merges into the object already there
    (``{"custom": {"region": "EU"}}`` changes one custom field and keeps the others); any other
    value, ``null`` included, replaces. Nested objects are copied, never shared with the event.
    Both are JSON values, whose objects are dicts."""
    for key, value in changes.items():
        current = fields.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged = dict(current)
            merge_fields(merged, value)
            fields[key] = merged
        else:
            fields[key] = value
