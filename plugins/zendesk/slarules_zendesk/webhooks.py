"""Zendesk webhook bodies as normalized events.

Two kinds of webhook reach the adapter:

* **event subscriptions** (``"type": "zen:event-type:ticket.status_changed"``): an envelope
  with the event ``id``, its ``time``, the ticket as ``detail`` and the change as ``event``;
* **trigger-connected webhooks**: a JSON body the admin writes in a Zendesk trigger, with a
  literal ``event`` naming what the trigger reports and ticket placeholders
  (docs/plugins/zendesk.md gives the body to use).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slarules.errors import PayloadError
from slarules.events import Event, EventType
from slarules_zendesk.codes import STATUSES, enum_value
from slarules_zendesk.events import (
    TICKET_ATTRIBUTES,
    Fields,
    build_event,
    comment_event_id,
    created_event_id,
    digest_event_id,
    field_value,
    instant,
    optional_id,
    required_id,
    tag_list,
    ticket_fields,
)
from slarules_zendesk.notes import is_engine_note

__all__ = [
    "IGNORED_KINDS",
    "SUBSCRIPTION_KINDS",
    "TRIGGER_EVENTS",
    "events_from_subscription",
    "events_from_trigger",
    "is_subscription",
]

_TYPE_PREFIX = "zen:event-type:ticket."
# Kinds whose `event.current` is the new value of one field.
_FIELD_CHANGES: Mapping[str, str] = {
    "status_changed": "status",
    "priority_changed": "priority",
    "agent_assignment_changed": "assignee",
    "group_assignment_changed": "group",
    "requester_changed": "requester",
    "organization_changed": "organization",
    "brand_changed": "brand",
    "form_changed": "form",
}
# Kinds that end or restore a ticket: the resulting status is what matters.
_STATUS_KINDS: Mapping[str, str | None] = {
    "soft_deleted": "deleted",
    "marked_as_spam": "deleted",
    "undeleted": None,  # back to the status in `detail`
    "merged": None,  # a ticket merged into another is closed: `detail` says so
    "custom_status_changed": None,  # the custom status's category is `detail.status`
}
_OTHER_KINDS = ("created", "tags_changed", "comment_added")
# Documented kinds that change nothing an SLA measures: no events.
IGNORED_KINDS = frozenset(
    {
        "subject_changed",
        "description_changed",
        "comment_made_private",
        "external_id_changed",
        "custom_field_changed",
        "email_ccs_changed",
        "followers_changed",
        "problem_link_changed",
        "task_due_at_changed",
        "next_sla_breach_changed",
        "permanently_deleted",
        "attachment_linked_to_comment",
        "attachment_redacted_from_comment",
        "comment_redacted",
        "satisfaction_rating_changed",
    }
)
SUBSCRIPTION_KINDS = frozenset({*_FIELD_CHANGES, *_STATUS_KINDS, *_OTHER_KINDS, *IGNORED_KINDS})
# Zendesk's automations and the API user with id -1 act for nobody in particular.
_SYSTEM_ACTORS = frozenset({"-1", "0"})


def is_subscription(body: Mapping[str, Any]) -> bool:
    """Event subscriptions carry a ``zen:`` type; trigger bodies a literal ``event``. A body
    with neither is taken for a trigger's whose ``event`` is missing when it names a ticket
    (``ticket_id``), as trigger bodies do, else for a subscription's."""
    kind = body.get("type")
    if isinstance(kind, str) and kind.lower().startswith("zen:"):
        return True
    return "event" not in body and "ticket_id" not in body


@dataclass(frozen=True)
class _Envelope:
    kind: str
    event_id: str
    at: datetime
    ticket_id: str
    detail: Mapping[str, Any]
    change: Mapping[str, Any]

    def actor(self) -> tuple[str | None, str]:
        """Who acted, and as whom: the requester acting is the requester, anyone else is an
        agent (end users can change little but through their replies)."""
        actor = optional_id(self.detail.get("actor_id"), "detail.actor_id")
        if actor is None or actor in _SYSTEM_ACTORS:
            return actor, "system"
        requester = optional_id(self.detail.get("requester_id"), "detail.requester_id")
        return actor, "requester" if actor == requester else "agent"


def events_from_subscription(
    body: Mapping[str, Any], ignored_authors: Collection[str] = ()
) -> list[Event]:
    """The events of one event-subscription webhook; comments by ``ignored_authors`` (the
    engine's own API user) and notes the engine wrote give none."""
    envelope = _envelope(body)
    kind = envelope.kind
    if kind in IGNORED_KINDS:
        return []
    if kind == "created":
        return [_created(envelope)]
    if kind == "comment_added":
        return _comment(envelope, ignored_authors)
    if kind == "tags_changed":
        return [_updated(envelope, {"tags": _resulting_tags(envelope)})]
    if kind in _FIELD_CHANGES:
        return [_updated(envelope, _field_change(envelope, _FIELD_CHANGES[kind]))]
    status = _STATUS_KINDS[kind] or enum_value(
        envelope.detail.get("status"), STATUSES, "detail.status", nullable=False
    )
    fields: Fields = {"status": status}
    if kind == "custom_status_changed":
        fields["custom_status"] = optional_id(envelope.change.get("current"), "event.current")
    return [_updated(envelope, fields)]


def _envelope(body: Mapping[str, Any]) -> _Envelope:
    kind_text = body.get("type")
    if not isinstance(kind_text, str) or not kind_text.lower().startswith(_TYPE_PREFIX):
        raise PayloadError("type", f"expected `{_TYPE_PREFIX}<kind>`, got `{kind_text}`")
    kind = kind_text[len(_TYPE_PREFIX) :].lower()
    if kind not in SUBSCRIPTION_KINDS:
        known = ", ".join(sorted(SUBSCRIPTION_KINDS - IGNORED_KINDS))
        raise PayloadError("type", f"unknown ticket event kind `{kind}`; known: {known}")
    event_id = required_id(body.get("id"), "id", "the event's id, used to ingest it once")
    at = instant(body.get("time"), "time")
    detail = body.get("detail")
    if not isinstance(detail, Mapping):
        raise PayloadError("detail", "required: the ticket the event is about")
    change = body.get("event", {})
    if not isinstance(change, Mapping):
        raise PayloadError("event", "expected an object describing the change")
    return _Envelope(kind, event_id, at, _ticket_id(body, detail), detail, change)


def _ticket_id(body: Mapping[str, Any], detail: Mapping[str, Any]) -> str:
    found = optional_id(detail.get("id"), "detail.id")
    if found is not None:
        return found
    subject = body.get("subject")
    if isinstance(subject, str) and subject.startswith("zen:ticket:") and subject[11:]:
        return subject[11:]
    raise PayloadError("detail.id", "required: the ticket's id (or `subject` `zen:ticket:<id>`)")


def _created(envelope: _Envelope) -> Event:
    actor, role = envelope.actor()
    fields = ticket_fields(envelope.detail, "detail")
    return build_event(
        created_event_id(envelope.ticket_id),
        envelope.ticket_id,
        EventType.TICKET_CREATED,
        envelope.at,
        fields,
        actor_id=actor,
        role=role,
    )


def _updated(envelope: _Envelope, fields: Fields) -> Event:
    actor, role = envelope.actor()
    return build_event(
        envelope.event_id,
        envelope.ticket_id,
        EventType.TICKET_UPDATED,
        envelope.at,
        fields,
        actor_id=actor,
        role=role,
    )


def _field_change(envelope: _Envelope, name: str) -> Fields:
    return {name: field_value(name, envelope.change.get("current"), "event.current")}


def _resulting_tags(envelope: _Envelope) -> list[Any]:
    if "tags" in envelope.detail:
        return tag_list(envelope.detail["tags"], "detail.tags")
    # Without the ticket's tags only the difference is known; it cannot make the whole list.
    raise PayloadError(
        "detail.tags", "required: the ticket's tags after the change (`tags_added` is not enough)"
    )


def _comment(envelope: _Envelope, ignored_authors: Collection[str]) -> list[Event]:
    comment = envelope.change.get("comment")
    if not isinstance(comment, Mapping):
        raise PayloadError("event.comment", "required: the comment that was added")
    author = comment.get("author")
    if not isinstance(author, Mapping):
        raise PayloadError("event.comment.author", "required: who wrote the comment")
    author_id = optional_id(author.get("id"), "event.comment.author.id")
    if (author_id is not None and author_id in ignored_authors) or is_engine_note(
        comment.get("body")
    ):
        return []  # the engine's own note: not a reply, or every note would loop back
    is_staff = author.get("is_staff")
    if not isinstance(is_staff, bool):
        raise PayloadError("event.comment.author.is_staff", "required: true or false")
    public = comment.get("is_public")
    if not isinstance(public, bool):
        raise PayloadError("event.comment.is_public", "required: true or false")
    comment_id = optional_id(comment.get("id"), "event.comment.id")
    event_id = comment_event_id(comment_id) if comment_id else envelope.event_id
    return [
        build_event(
            event_id,
            envelope.ticket_id,
            EventType.TICKET_REPLIED,
            envelope.at,
            actor_id=author_id,
            role=_comment_role(is_staff, author_id, envelope),
            public=public,
        )
    ]


def _comment_role(is_staff: bool, author: str | None, envelope: _Envelope) -> str:
    """Staff reply as agents; the requester as the requester. An end user copied on the ticket
    (a CC) is neither: the requester's clocks do not move for them."""
    if is_staff:
        return "agent"
    requester = optional_id(envelope.detail.get("requester_id"), "detail.requester_id")
    return "requester" if requester is None or author == requester else "system"


# -- trigger-connected webhooks -------------------------------------------------------------

# The literal `event` of each trigger and the fields it reports (None: every field given).
TRIGGER_EVENTS: Mapping[str, tuple[str, ...] | None] = {
    "created": None,
    "updated": None,
    "status_changed": ("status",),
    "solved": ("status",),
    "priority_changed": ("priority",),
    "group_changed": ("group",),
    "assignee_changed": ("assignee",),
    "tags_changed": ("tags",),
}
# Body key -> (event field, how to read it). Placeholders of unset values render as "".
_TRIGGER_FIELDS: Mapping[str, str] = {**TICKET_ATTRIBUTES, "tags": "tags", "channel": "channel"}

TicketFetcher = Callable[[str], Mapping[str, Any]]


def events_from_trigger(body: Mapping[str, Any], fetch_ticket: TicketFetcher) -> list[Event]:
    """The event of one trigger webhook. A body that gives the ticket id but not the fields its
    ``event`` reports, or not its instant, is completed from ``GET /tickets/{id}``."""
    kind = body.get("event")
    if not isinstance(kind, str) or kind.lower() not in TRIGGER_EVENTS:
        known = ", ".join(TRIGGER_EVENTS)
        problem = "required" if kind is None else f"unknown trigger event `{kind}`"
        raise PayloadError("event", f"{problem}; expected one of {known}")
    kind = kind.lower()
    ticket_id = required_id(body.get("ticket_id"), "ticket_id", "the ticket's id")
    wanted = TRIGGER_EVENTS[kind]
    fields = _trigger_fields(body)
    stamp_key = "created_at" if kind == "created" else "updated_at"
    complete = (wanted is None or all(name in fields for name in wanted)) and _given(
        body.get(stamp_key)
    )
    if complete:
        at = instant(body.get(stamp_key), stamp_key)
    else:
        ticket = fetch_ticket(ticket_id)
        fields = {**ticket_fields(ticket, "ticket"), **fields}
        at = instant(ticket.get(stamp_key), f"ticket.{stamp_key}")
    if wanted is not None:
        fields = {name: fields.get(name) for name in wanted}
    if kind == "created":
        return [
            build_event(
                created_event_id(ticket_id), ticket_id, EventType.TICKET_CREATED, at, fields
            )
        ]
    given_id = optional_id(body.get("id"), "id")
    event_id = given_id or digest_event_id(ticket_id, kind, at)
    return [build_event(event_id, ticket_id, EventType.TICKET_UPDATED, at, fields)]


def _trigger_fields(body: Mapping[str, Any]) -> Fields:
    fields: Fields = {}
    for key, name in _TRIGGER_FIELDS.items():
        if key in body:
            fields[name] = field_value(name, body[key], key)
    return fields


def _given(value: object) -> bool:
    return value not in (None, "")
