"""Normalized event bodies to :class:`~slarules.events.Event`, with errors at their place in
the request.

Every reader (the field mapping, CloudEvents, plain events) builds the event's dict and says
where each part came from (``origins``: event field to a pointer or a header name), so that a
bad value is reported where the helpdesk put it, not where slarules would have.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn

from slarules.errors import EventError, PayloadError
from slarules.events import Event, EventType

__all__ = ["EVENT_TYPES", "TimeFormat", "build_event", "parse_instant", "plain_events"]

EVENT_TYPES = tuple(kind.value for kind in EventType)
TimeFormat = Literal["iso8601", "unix", "unix_ms"]


def build_event(payload: Mapping[str, Any], origins: Mapping[str, str]) -> Event:
    """``Event.parse(payload)``, or :class:`PayloadError` at the origin of the bad field."""
    try:
        return Event.parse(payload)
    except EventError as error:
        locate = functools.partial(_located, origins=origins)
        raise error.as_payload_error(locate) from None


def plain_events(document: Any) -> list[Event]:
    """A body that is one normalized event (an object) or several (a list of them)."""
    if isinstance(document, dict):
        return [build_event(document, _pointers_into(document, ""))]
    if isinstance(document, list):
        return [
            build_event(item, _pointers_into(item, f"/{index}"))
            if isinstance(item, dict)
            # A list item that is not an object cannot be an event: say so, do not skip it.
            else _not_an_event(f"/{index}", item)
            for index, item in enumerate(document)
        ]
    return _not_an_event("body", document)


def parse_instant(value: Any, where: str, time_format: TimeFormat = "iso8601") -> datetime:
    """An aware instant from an ISO 8601 text with its offset, or from Unix (milli)seconds."""
    if time_format == "iso8601":
        if not isinstance(value, str):
            raise PayloadError(where, f"expected an ISO 8601 timestamp text, got `{value!r}`")
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            raise PayloadError(
                where, f"`{value}` is not an ISO 8601 timestamp, such as 2026-03-02T09:14:05Z"
            ) from None
        if instant.utcoffset() is None:
            raise PayloadError(
                where,
                f"naive timestamp `{value}`: give its UTC offset, such as "
                "`2026-03-02T09:14:05Z` or `+01:00`",
            )
        return instant
    number = _number(value)
    if number is None:
        raise PayloadError(where, f"expected Unix {_UNITS[time_format]}, got `{value!r}`")
    seconds = number / 1000 if time_format == "unix_ms" else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(
            where, f"`{value}` is out of range for Unix {_UNITS[time_format]}"
        ) from None


_UNITS = {"unix": "seconds", "unix_ms": "milliseconds"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _located(field: str, reason: str, origins: Mapping[str, str]) -> tuple[str, str]:
    origin = _origin(field, origins)
    # A pointer says where in the payload; the event field says what it was read as.
    return origin, reason if origin == field else f"{reason} (read as `{field}`)"


def _origin(field: str, origins: Mapping[str, str]) -> str:
    """Where ``field`` (``fields.status``, ``actor.role``) came from, by its longest known
    prefix, extended by what is left (``fields.custom.region`` from ``fields.custom``)."""
    parts = field.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix in origins:
            rest = parts[length:]
            origin = origins[prefix]
            return (
                origin + "".join(f"/{part}" for part in rest) if origin.startswith("/") else origin
            )
    return field


def _pointers_into(document: Mapping[str, Any], base: str) -> dict[str, str]:
    """Origins of a plain event: each field is where it is, under ``base``."""
    origins = {"event": base or "body", "id": f"{base}/id", "ticket": f"{base}/ticket"}
    origins.update({"type": f"{base}/type", "at": f"{base}/at", "public": f"{base}/public"})
    origins.update({"actor": f"{base}/actor", "fields": f"{base}/fields"})
    for key in document:
        origins.setdefault(str(key), f"{base}/{key}")
    return origins


def _not_an_event(where: str, value: Any) -> NoReturn:
    raise PayloadError(
        where, f"expected a normalized event (a JSON object), got {type(value).__name__}"
    )
