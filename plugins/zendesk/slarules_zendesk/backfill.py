"""Ticket history from Zendesk's API as normalized events: for what webhooks missed.

* **audits** (``GET /tickets/{id}/audits``): one audit per update, each with ``Create`` events
  (the initial fields of a new ticket), ``Change`` events (``field_name``, ``value``,
  ``previous_value``) and ``Comment`` events;
* the **incremental ticket events export** (``GET /incremental/ticket_events.json``): the
  same updates for every ticket since an instant, as ``child_events``.

A new ticket's audit is its ``ticket.created``; every other audit that changes fields is one
``ticket.updated`` with all of them (``zendesk-audit-{id}``); every comment but the one that
opened the ticket is a ``ticket.replied``. Comments carry no role, so their authors are looked
up (:class:`~slarules_zendesk.directory.Directory`). Unknown event types (notifications,
satisfaction ratings, SLA target changes…) and fields no policy reads are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from slarules.errors import PayloadError
from slarules.events import Event, EventType
from slarules_zendesk.events import (
    TICKET_ATTRIBUTES,
    Fields,
    build_event,
    comment_event_id,
    created_event_id,
    field_value,
    instant,
    optional_id,
    required_id,
)
from slarules_zendesk.notes import is_engine_note

__all__ = ["AUDIT_FIELDS", "events_from_audits", "events_from_export_page"]

# Audit `field_name` -> event field. Others (subject, custom field ids, …) are not ingested.
AUDIT_FIELDS: Mapping[str, str] = {**TICKET_ATTRIBUTES, "ticket_form_id": "form", "tags": "tags"}

RoleOf = Callable[[str | None], str]
IsOwn = Callable[[str | None], bool]


def events_from_audits(
    audits: Sequence[Mapping[str, Any]], role_of: RoleOf, is_own: IsOwn = lambda _: False
) -> list[Event]:
    """The events of one ticket's audits, oldest first. ``role_of`` gives a user's role
    (``agent``, ``requester``, ``system``); comments by ``is_own`` users are the engine's."""
    dated = [
        (_audit_instant(audit, f"audits[{index}]"), index, audit)
        for index, audit in enumerate(audits)
    ]
    events: list[Event] = []
    requesters: dict[str, str] = {}
    for at, index, audit in sorted(dated, key=lambda item: (item[0], item[1])):
        events += _audit_events(audit, at, f"audits[{index}]", role_of, is_own, requesters)
    return events


def events_from_export_page(
    page: Mapping[str, Any], role_of: RoleOf, is_own: IsOwn = lambda _: False
) -> list[Event]:
    """The events of one page of the incremental ticket events export."""
    rows = page.get("ticket_events")
    if not isinstance(rows, list):
        raise PayloadError("ticket_events", "required: the list of ticket events")
    events: list[Event] = []
    requesters: dict[str, str] = {}
    for index, row in enumerate(rows):
        where = f"ticket_events[{index}]"
        if not isinstance(row, Mapping):
            raise PayloadError(where, "expected a ticket event object")
        if row.get("event_type", "Audit") != "Audit":
            continue  # only audits hold field changes and comments
        audit = _as_audit(row, where)
        at = _audit_instant(audit, where)
        events += _audit_events(audit, at, where, role_of, is_own, requesters)
    return events


def _as_audit(row: Mapping[str, Any], where: str) -> dict[str, Any]:
    """An export row in the shape of an audit: children keyed by their field become
    ``field_name``/``value`` pairs."""
    children = row.get("child_events")
    if not isinstance(children, list):
        raise PayloadError(f"{where}.child_events", "required: the events of the update")
    events = []
    for position, child in enumerate(children):
        if not isinstance(child, Mapping):
            raise PayloadError(f"{where}.child_events[{position}]", "expected an event object")
        kind = child.get("event_type", child.get("type"))
        if kind in ("Create", "Change") and "field_name" not in child:
            events += [
                {"type": kind, "field_name": key, "value": child[key], "id": child.get("id")}
                for key in AUDIT_FIELDS
                if key in child
            ]
        else:
            events.append({**child, "type": kind})
    return {
        "id": row.get("id"),
        "ticket_id": row.get("ticket_id"),
        "author_id": row.get("updater_id"),
        "created_at": row.get("created_at"),
        "timestamp": row.get("timestamp"),
        "via": row.get("via"),
        "events": events,
    }


def _audit_instant(audit: Mapping[str, Any], where: str) -> datetime:
    if not isinstance(audit, Mapping):
        raise PayloadError(where, "expected an audit object")
    if audit.get("created_at") not in (None, ""):
        return instant(audit["created_at"], f"{where}.created_at")
    stamp = audit.get("timestamp")
    if isinstance(stamp, int) and not isinstance(stamp, bool) and stamp >= 0:
        return datetime.fromtimestamp(stamp, UTC)
    raise PayloadError(f"{where}.created_at", "required: when the update happened")


def _audit_events(
    audit: Mapping[str, Any],
    at: datetime,
    where: str,
    role_of: RoleOf,
    is_own: IsOwn,
    requesters: dict[str, str],
) -> list[Event]:
    """The events of one audit. ``requesters`` holds each ticket's requester as the audits so
    far set it: an end user's comment is the requester's only if they are the requester."""
    ticket_id = required_id(audit.get("ticket_id"), f"{where}.ticket_id", "the ticket's id")
    audit_id = required_id(audit.get("id"), f"{where}.id", "the audit's id")
    author = optional_id(audit.get("author_id"), f"{where}.author_id")
    children = audit.get("events")
    if not isinstance(children, list):
        raise PayloadError(f"{where}.events", "required: the events of the audit")
    created: Fields = {}
    changed: Fields = {}
    comments: list[tuple[int, Mapping[str, Any]]] = []
    for position, child in enumerate(children):
        child_where = f"{where}.events[{position}]"
        if not isinstance(child, Mapping):
            raise PayloadError(child_where, "expected an audit event object")
        kind = child.get("type")
        if kind in ("Create", "Change"):
            target = created if kind == "Create" else changed
            _read_field(child, child_where, target)
        elif kind == "Comment":
            comments.append((position, child))
    for fields in (created, changed):
        if isinstance(fields.get("requester"), str):
            requesters[ticket_id] = str(fields["requester"])
    events: list[Event] = []
    if created:
        channel = _via_channel(audit.get("via"))
        if channel is not None:
            created["channel"] = channel
        created.setdefault("tags", [])
        events.append(
            build_event(
                created_event_id(ticket_id),
                ticket_id,
                EventType.TICKET_CREATED,
                at,
                created,
                actor_id=author,
                role=role_of(author),
            )
        )
    if changed:
        events.append(
            build_event(
                f"zendesk-audit-{audit_id}",
                ticket_id,
                EventType.TICKET_UPDATED,
                at,
                changed,
                actor_id=author,
                role=role_of(author),
            )
        )
    if not created:  # a new ticket's comment is its description, not a reply
        requester = requesters.get(ticket_id)
        for position, comment in comments:
            place = f"{where}.events[{position}]"
            event = _reply(ticket_id, comment, at, place, role_of, is_own, requester)
            if event is not None:
                events.append(event)
    return events


def _read_field(child: Mapping[str, Any], where: str, fields: Fields) -> None:
    name = AUDIT_FIELDS.get(str(child.get("field_name")))
    if name is None:
        return
    value = child.get("value")
    fields[name] = field_value(name, value, f"{where}.value")


def _reply(
    ticket_id: str,
    comment: Mapping[str, Any],
    at: datetime,
    where: str,
    role_of: RoleOf,
    is_own: IsOwn,
    requester: str | None,
) -> Event | None:
    author = optional_id(comment.get("author_id"), f"{where}.author_id")
    if is_own(author) or is_engine_note(comment.get("body")):
        return None
    public = comment.get("public")
    if not isinstance(public, bool):
        raise PayloadError(f"{where}.public", "required: true or false")
    comment_id = required_id(comment.get("id"), f"{where}.id", "the comment's id")
    role = role_of(author)
    if role == "requester" and requester is not None and author != requester:
        role = "system"  # an end user copied on the ticket (a CC), as the webhooks read them
    return build_event(
        comment_event_id(comment_id),
        ticket_id,
        EventType.TICKET_REPLIED,
        at,
        actor_id=author,
        role=role,
        public=public,
    )


def _via_channel(via: object) -> str | None:
    if isinstance(via, Mapping) and isinstance(via.get("channel"), str):
        return str(via["channel"]).lower()
    # The export writes `via` as a label ("Web form"), not the channel webhooks and REST give.
    return None
