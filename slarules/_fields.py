"""Ticket fields read by dotted paths, the same way by conditions and by reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def read_path(fields: Mapping[str, Any], keys: Sequence[str]) -> Any:
    """The value at a dotted path of ticket fields (``customer.tier``), or ``None``."""
    value: Any = fields
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def merge_fields(fields: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Apply a ``ticket.updated`` event's fields: an object merges into the object already there
    (``{"custom": {"region": "EU"}}`` changes one custom field and keeps the others); any other
    value, ``null`` included, replaces. Nested objects are copied, never shared with the event."""
    for key, value in changes.items():
        current = fields.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged = dict(current)
            merge_fields(merged, value)
            fields[key] = merged
        else:
            fields[key] = value
