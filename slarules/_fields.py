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
