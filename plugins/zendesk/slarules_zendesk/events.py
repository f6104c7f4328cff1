"""Building normalized events: the shared pieces of webhooks and backfill.

Ids of facts that Zendesk names itself are the same whichever way they arrive, so a webhook and
a later backfill of the same ticket ingest them once: ``zendesk-created-{ticket}`` for the
creation and ``zendesk-comment-{comment id}`` for a comment. Other facts take the webhook's event
id, or ``zendesk-audit-{audit id}-{event id}`` from audits, or a digest of what they say.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import JsonValue

from slarules.errors import EventError, PayloadError
from slarules.events import Event, EventType
from slarules_zendesk.codes import PRIORITIES, STATUSES, TICKET_TYPES, enum_value

__all__ = [
    "TICKET_ATTRIBUTES",
    "Fields",
    "build_event",
    "comment_event_id",
    "created_event_id",
    "digest_event_id",
    "field_value",
    "instant",
    "optional_id",
    "required_id",
    "ticket_fields",
]

Fields = dict[str, JsonValue]
# Ticket attribute -> event field, as REST tickets, webhook `detail`s, audits, trigger
# placeholders and trigger conditions all name them; each adds a few names of its own.
_ID_ATTRIBUTES = {
    "group_id": "group",
    "assignee_id": "assignee",
    "requester_id": "requester",
    "organization_id": "organization",
    "brand_id": "brand",
}
TICKET_ATTRIBUTES: Mapping[str, str] = {
    "status": "status",
    "priority": "priority",
    "type": "type",
    **_ID_ATTRIBUTES,
}
# Webhooks say `form_id`, REST tickets `ticket_form_id`.
_FORM_KEYS = ("ticket_form_id", "form_id")


def ticket_fields(ticket: Mapping[str, Any], where: str) -> Fields:
    """The normalized fields of a REST ticket or a webhook's ``detail``: enumerations in lower
    case, ids as strings, ``channel`` from ``via.channel``."""
    fields: Fields = {
        name: field_value(name, ticket.get(name), f"{where}.{name}")
        for name in ("status", "priority")
    }
    for key, name in {**_ID_ATTRIBUTES, "type": "type", "tags": "tags"}.items():
        if key in ticket:
            fields[name] = field_value(name, ticket[key], f"{where}.{key}")
    for key in _FORM_KEYS:
        if key in ticket:
            fields["form"] = optional_id(ticket[key], f"{where}.{key}")
    channel = _channel(ticket.get("via"), f"{where}.via")
    if channel is not None:
        fields["channel"] = channel
    if isinstance(ticket.get("subject"), str):
        fields["subject"] = ticket["subject"]
    return fields


def field_value(name: str, value: object, where: str) -> JsonValue:
    """A ticket attribute's value as the event field ``name`` holds it, whichever way it came:
    enumerations in lower case, tags as a list, a channel name in lower case, ids as strings.
    """
    if name == "status":
        return enum_value(value, STATUSES, where, nullable=False)
    if name == "priority":
        return enum_value(value, PRIORITIES, where, nullable=True)
    if name == "type":
        return enum_value(value, TICKET_TYPES, where, nullable=True)
    if name == "tags":
        return tag_list(value, where)
    if name == "channel":
        return value.lower() if isinstance(value, str) and value else None
    return optional_id(value, where)


def tag_list(value: object, field: str) -> list[JsonValue]:
    """Tags as a list; trigger placeholders render ``{{ticket.tags}}`` as one spaced string."""
    if value is None:
        return []
    if isinstance(value, str):
        return list(value.split())
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return list(value)
    raise PayloadError(field, f"expected a list of tags, got `{value!r}`")


def _channel(via: object, field: str) -> str | None:
    if via is None:
        return None
    if not isinstance(via, Mapping):
        raise PayloadError(field, 'expected `{"channel": ...}`')
    channel = via.get("channel")
    if channel is None:
        return None
    if not isinstance(channel, str):
        raise PayloadError(f"{field}.channel", f"expected a channel name, got `{channel!r}`")
    return channel.lower()


def optional_id(value: object, field: str) -> str | None:
    """An id as a string (REST sends numbers, webhooks strings); null and "" are no id."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(field, f"expected an id, got `{value!r}`")
    return str(value)


def required_id(value: object, field: str, what: str) -> str:
    found = optional_id(value, field)
    if found is None:
        raise PayloadError(field, f"required: {what}")
    return found


def instant(value: object, field: str) -> datetime:
    """An aware UTC instant from an ISO-8601 text, or :class:`PayloadError` naming ``field``."""
    if not isinstance(value, str) or not value:
        raise PayloadError(field, f"required: an ISO-8601 instant, got `{value!r}`")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PayloadError(field, f"`{value}` is not an ISO-8601 instant") from None
    if parsed.utcoffset() is None:
        raise PayloadError(field, f"`{value}` has no UTC offset, such as `Z` or `+01:00`")
    return parsed.astimezone(UTC)


def created_event_id(ticket_id: str) -> str:
    return f"zendesk-created-{ticket_id}"


def comment_event_id(comment_id: str) -> str:
    return f"zendesk-comment-{comment_id}"


def digest_event_id(ticket_id: str, kind: str, at: datetime) -> str:
    """A stable id for a fact Zendesk gives no id of: the same inputs give the same id."""
    text = f"{ticket_id}\n{kind}\n{at.isoformat()}"
    return "zendesk-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def build_event(
    event_id: str,
    ticket_id: str,
    kind: EventType,
    at: datetime,
    fields: Fields | None = None,
    *,
    actor_id: str | None = None,
    role: str = "system",
    public: bool = True,
) -> Event:
    """The event, or :class:`PayloadError` if a value cannot be one (an id too long, say)."""
    payload = {
        "id": event_id,
        "ticket": ticket_id,
        "type": kind,
        "at": at,
        "fields": fields or {},
        "actor": {"id": actor_id, "role": role},
        "public": public,
    }
    try:
        return Event.parse(payload)
    except EventError as error:
        raise error.as_payload_error() from None
