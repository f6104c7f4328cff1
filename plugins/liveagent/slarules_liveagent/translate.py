"""LiveAgent's objects as normalized events.

* a Ticket (``GET /tickets/{id}``) is its ``ticket.created`` event, or, after a Rule reported a
  change, the ``ticket.updated`` event of the fields that change concerns;
* the history rows (``GET /tickets/{id}/history``) are an interval log: each row is a stretch with
  one status, agent and department, so consecutive rows differ by what changed;
* message groups (``GET /tickets/{id}/messages``) hold the replies and notes.

Event ids are stable, so the same fact reported by a Rule and found again by reconciliation is
ingested once: LiveAgent's own ids where there are some (``history-…``, ``message-…``), else a
digest of the ticket, the kind of change and its instant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any

from pydantic import JsonValue

from slarules.errors import EventError, PayloadError
from slarules.events import Event, EventType
from slarules_liveagent._shapes import code, json_list, json_object
from slarules_liveagent.account_time import AccountTime
from slarules_liveagent.codes import (
    CHANNELS,
    CONVERSATION_GROUPS,
    INTERNAL_GROUPS,
    MARKER_GROUPS,
    OTHER_GROUPS,
    OUTGOING_GROUPS,
    PRIVATE_MESSAGES,
    PUBLIC_MESSAGES,
    STATUSES,
)

__all__ = [
    "CHANGE_FIELDS",
    "event_digest",
    "events_from_change",
    "events_from_history",
    "events_from_messages",
    "events_from_ticket",
    "history_start",
    "ticket_fields",
    "ticket_id_of",
]

Fields = dict[str, JsonValue]

# The normalized fields each change a Rule reports is about.
CHANGE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "status_changed": ("status",),
    "transferred": ("group", "assignee"),
    "tags_changed": ("tags",),
}
# History row columns and the normalized fields they hold.
_HISTORY_COLUMNS = {"status": "status", "agent_id": "assignee", "department_id": "group"}


def ticket_id_of(ticket: object, where: str = "ticket") -> str:
    """The id of a Ticket object, or :class:`PayloadError` at ``where.id``."""
    if not isinstance(ticket, Mapping):
        raise PayloadError(where, "expected a LiveAgent Ticket object")
    ticket_id = ticket.get("id")
    if not isinstance(ticket_id, str | int) or isinstance(ticket_id, bool) or ticket_id == "":
        raise PayloadError(f"{where}.id", "required: the ticket's id")
    return str(ticket_id)


def ticket_fields(ticket: Mapping[str, Any], tag_names: Mapping[str, str] | None = None) -> Fields:
    """The normalized fields of a Ticket object. Tags are ids in LiveAgent; ``tag_names`` maps
    them to the names policies use (an id it does not know stays as it is)."""
    names = tag_names or {}
    fields: Fields = {
        "status": status_of(ticket.get("status"), "ticket.status"),
        "group": _optional_id(ticket.get("departmentid")),
        "assignee": _optional_id(ticket.get("agentid")),
        "requester": _optional_id(ticket.get("owner_contactid")),
        "tags": [
            names.get(str(tag), str(tag))
            for tag in json_list(ticket.get("tags") or [], "ticket.tags")
        ],
    }
    if ticket.get("channel_type") not in (None, ""):  # empty, as a Rule's blank placeholder
        fields["channel"] = _channel_of(ticket["channel_type"])
    for key in ("subject", "code"):
        if isinstance(ticket.get(key), str):
            fields[key] = ticket[key]
    custom = {
        str(item["code"]): item.get("value")
        for item in json_list(ticket.get("custom_fields") or [], "ticket.custom_fields")
        if isinstance(item, Mapping) and item.get("code")
    }
    if custom:
        fields["custom"] = custom
    return fields


def status_of(letter: object, field: str) -> str:
    if not isinstance(letter, str) or letter not in STATUSES:
        known = ", ".join(STATUSES)
        raise PayloadError(field, f"unknown status `{letter}`; LiveAgent's letters are {known}")
    return STATUSES[letter]


def events_from_ticket(
    ticket: Mapping[str, Any],
    *,
    timezone: str = "UTC",
    tag_names: Mapping[str, str] | None = None,
    initial: Mapping[str, JsonValue] | None = None,
) -> list[Event]:
    """The ``ticket.created`` event of a Ticket object, at ``date_created``.

    A ticket fetched later has its *current* status, agent and department; ``initial`` (from
    :func:`history_start`) puts back the ones it was created with.
    """
    ticket_id = ticket_id_of(ticket)
    fields = {**ticket_fields(ticket, tag_names), **(initial or {})}
    at = AccountTime(timezone).parse(ticket.get("date_created"), "ticket.date_created")
    return [_event(f"created-{ticket_id}", ticket_id, EventType.TICKET_CREATED, at, fields)]


def events_from_change(
    kind: str,
    ticket: Mapping[str, Any],
    *,
    timezone: str = "UTC",
    tag_names: Mapping[str, str] | None = None,
    extra: Mapping[str, JsonValue] | None = None,
) -> list[Event]:
    """The ``ticket.updated`` event for a change a Rule reported (``status_changed``,
    ``transferred``, ``tags_changed``), at the ticket's ``date_changed``.

    A Rule says what kind of change happened, not the value before it, so the event carries the
    current values of the fields that kind of change is about.
    """
    ticket_id = ticket_id_of(ticket)
    every_field = ticket_fields(ticket, tag_names)
    fields = {name: every_field.get(name) for name in CHANGE_FIELDS[kind]}
    fields.update(extra or {})
    at = AccountTime(timezone).parse(ticket.get("date_changed"), "ticket.date_changed")
    event_id = event_digest(ticket_id, kind, at)
    return [_event(event_id, ticket_id, EventType.TICKET_UPDATED, at, fields)]


def history_start(rows: Sequence[Mapping[str, Any]], *, timezone: str = "UTC") -> Fields:
    """The status, agent and department a ticket was created with: its first history row."""
    ordered = _chronological(rows, AccountTime(timezone))
    if not ordered:
        return {}
    index, row, _ = ordered[0]
    return _row_fields(row, index)


def events_from_history(
    ticket_id: str, rows: Sequence[Mapping[str, Any]], *, timezone: str = "UTC"
) -> list[Event]:
    """One ``ticket.updated`` event per history row whose status, agent or department differs
    from the row before it, at the instant the row starts."""
    events = []
    ordered = _chronological(rows, AccountTime(timezone))
    for (before_index, before, _), (index, row, at) in pairwise(ordered):
        old, new = _row_fields(before, before_index), _row_fields(row, index)
        changed = {name: value for name, value in new.items() if old[name] != value}
        if changed:
            row_id = row.get("id")
            event_id = f"history-{row_id}" if row_id else event_digest(ticket_id, "history", at)
            events.append(_event(event_id, ticket_id, EventType.TICKET_UPDATED, at, changed))
    return events


def events_from_messages(
    ticket_id: str,
    groups: Sequence[Mapping[str, Any]],
    agents: Collection[str],
    *,
    timezone: str = "UTC",
    created_at: datetime | None = None,
) -> list[Event]:
    """One ``ticket.replied`` event per message that is someone's words.

    ``agents`` are the agents' user ids (``GET /agents``): in conversations, a message by one
    of them is an agent's reply and any other is the requester's. An outgoing email is an
    agent's public reply; internal groups and note messages are agents' private replies.
    Requester messages not after ``created_at`` are the one that opened the ticket: its
    creation, not a reply. Marker groups (resolve, postpone, transfer, tag) and the other
    documented types produce no event.
    """
    account_time = AccountTime(timezone)
    events = []
    for index, group in enumerate(json_list(groups, "message_groups")):
        where = f"message_groups[{index}]"
        group = json_object(group, where)
        kind = code(group.get("type"), f"{where}.type")
        if kind in MARKER_GROUPS or kind in OTHER_GROUPS:
            continue
        if kind not in CONVERSATION_GROUPS | OUTGOING_GROUPS | INTERNAL_GROUPS:
            raise PayloadError(f"{where}.type", f"unknown message group type `{kind}`")
        messages = json_list(group.get("messages") or [], f"{where}.messages")
        for position, message in enumerate(messages):
            place = f"{where}.messages[{position}]"
            event = _reply(
                ticket_id, group, json_object(message, place), agents, account_time, place
            )
            opening = event is not None and created_at is not None and event.at <= created_at
            if event is not None and not (opening and event.actor.role == "requester"):
                events.append(event)
    return events


def event_digest(ticket_id: str, kind: str, at: datetime) -> str:
    """A stable id for a fact LiveAgent gives no id of: the same inputs give the same id."""
    text = f"{ticket_id}\n{kind}\n{at.isoformat()}"
    return "liveagent-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _reply(
    ticket_id: str,
    group: Mapping[str, Any],
    message: Mapping[str, Any],
    agents: Collection[str],
    account_time: AccountTime,
    where: str,
) -> Event | None:
    kind = code(message.get("type"), f"{where}.type")
    if kind not in PUBLIC_MESSAGES and kind not in PRIVATE_MESSAGES:
        return None  # a header, quoted text, a file, a system line: part of a reply at most
    private = kind in PRIVATE_MESSAGES or group.get("type") in INTERNAL_GROUPS
    author = _optional_id(message.get("userid") or group.get("userid"))
    if private or group.get("type") in OUTGOING_GROUPS or author in agents:
        role = "agent"
    else:
        role = "requester"
    at = account_time.parse(message.get("datecreated"), f"{where}.datecreated")
    message_id = message.get("id")
    event_id = f"message-{message_id}" if message_id else event_digest(ticket_id, "reply", at)
    return _event(
        event_id,
        ticket_id,
        EventType.TICKET_REPLIED,
        at,
        {},
        actor={"id": author, "role": role},
        public=not private,
    )


def _chronological(
    rows: Sequence[Mapping[str, Any]], account_time: AccountTime
) -> list[tuple[int, Mapping[str, Any], datetime]]:
    dated = []
    for index, given in enumerate(json_list(rows, "history")):
        where = f"history[{index}]"
        row = json_object(given, where)
        dated.append((index, row, account_time.parse(row.get("date_from"), f"{where}.date_from")))
    return sorted(dated, key=lambda item: item[2])


def _row_fields(row: Mapping[str, Any], index: int) -> Fields:
    fields: Fields = {}
    for column, name in _HISTORY_COLUMNS.items():
        value = row.get(column)
        if column == "status":
            fields[name] = status_of(value, f"history[{index}].status")
        else:
            fields[name] = _optional_id(value)
    return fields


def _channel_of(letter: object) -> str:
    if not isinstance(letter, str) or letter not in CHANNELS:
        known = ", ".join(CHANNELS)
        raise PayloadError(
            "ticket.channel_type", f"unknown channel `{letter}`; LiveAgent's letters are {known}"
        )
    return CHANNELS[letter]


def _optional_id(value: object) -> str | None:
    # LiveAgent leaves an unset agent or department empty (or null) rather than absent.
    return None if value in (None, "") else str(value)


def _event(
    event_id: str,
    ticket_id: str,
    kind: EventType,
    at: datetime,
    fields: Fields,
    actor: Mapping[str, Any] | None = None,
    public: bool = True,
) -> Event:
    payload = {
        "id": event_id,
        "ticket": ticket_id,
        "type": kind,
        "at": at,
        "fields": fields,
        "actor": actor or {"role": "system"},
        "public": public,
    }
    try:
        return Event.parse(payload)
    except EventError as error:
        raise error.as_payload_error() from None
