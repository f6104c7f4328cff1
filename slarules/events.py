"""Events: the one input format. Adapters translate a helpdesk's webhooks into these.

An event is one fact about one ticket at one instant. Validation names the field at fault, so a
rejected event can be fixed and retried (the engine keeps it, see ``Engine.rejected``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationError,
)
from pydantic_core import ErrorDetails

from slarules._suggest import did_you_mean
from slarules.errors import EventError

__all__ = ["Actor", "Event", "EventType"]


class EventType(StrEnum):
    TICKET_CREATED = "ticket.created"
    TICKET_UPDATED = "ticket.updated"
    TICKET_REPLIED = "ticket.replied"
    CONTACT_OFFERED = "contact.offered"
    CONTACT_ANSWERED = "contact.answered"
    CONTACT_ABANDONED = "contact.abandoned"


Role = Literal["agent", "requester", "system"]
# No NUL: the engine packs ids NUL-terminated (slarules._history).
_Identifier = Annotated[str, StringConstraints(min_length=1, max_length=512, pattern="^[^\x00]+$")]


class Actor(BaseModel):
    """Who caused the event: an agent, the requester, or the system (automations, imports)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, StringConstraints(pattern="^[^\x00]*$")] | None = None
    role: Role = "system"


_SYSTEM = Actor()


class Event(BaseModel):
    """One normalized fact about a ticket.

    >>> Event.parse({"id": "evt-81", "ticket": "T-1042", "type": "ticket.updated",
    ...              "at": "2026-03-02T09:14:05Z", "fields": {"status": "pending"}}).fields
    {'status': 'pending'}

    ``fields`` holds the initial fields of ``ticket.created`` and the changed ones of
    ``ticket.updated`` (any event may carry fields; a call's queue on ``contact.offered``, say).
    ``public`` only matters for ``ticket.replied`` and defaults to true there.
    """

    # JSON has no NaN or infinity, so neither may fields.
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    id: _Identifier
    ticket: _Identifier
    type: EventType
    at: AwareDatetime
    # Pydantic deep-copies a default for every event that lacks the field: a factory is cheaper
    # (a fifth of the validation of an event without fields). An actor is frozen, so the events
    # with none share one.
    fields: dict[str, JsonValue] = Field(default_factory=dict)
    actor: Actor = Field(default_factory=lambda: _SYSTEM)
    public: bool = True

    @classmethod
    def parse(cls, payload: Event | Mapping[str, Any] | str | bytes) -> Event:
        """An event from a mapping, a JSON text or an event, or :class:`EventError` naming the field
        at fault."""
        if isinstance(payload, Event):
            return payload
        try:
            if isinstance(payload, str | bytes):
                return cls.model_validate_json(payload)
            return cls.model_validate(payload)
        except ValidationError as error:
            raise EventError(_problems(error), payload) from None


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    problems: dict[str, str] = {}
    for detail in error.errors(include_url=False):
        field = _field_name(detail)
        if field not in problems:  # a union reports every branch; the first says enough
            problems[field] = _reason(detail)
    return list(problems.items())


def _field_name(detail: ErrorDetails) -> str:
    # Unions add the branch's type name to the location (`fields.x.list[...]`); cut it.
    parts = [str(part) for part in detail["loc"]]
    if parts and parts[0] == "fields":
        parts = parts[:2]
    return ".".join(parts) or "event"


def _reason(detail: ErrorDetails) -> str:
    kind, given = detail["type"], detail.get("input")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "not an event field; custom values go in `fields`"
    if kind == "timezone_aware":
        return (
            f"naive timestamp `{given}`: give its UTC offset, such as `2026-03-02T09:14:05Z` "
            "or `+01:00`"
        )
    if kind == "enum":
        known = [t.value for t in EventType]
        hint = did_you_mean(str(given), known)
        return f"unknown event type `{given}`{hint}; expected one of {', '.join(known)}"
    if kind == "finite_number":
        return "NaN and infinity are not JSON values"
    if detail["loc"][:1] == ("fields",):
        return f"`{type(given).__name__}` is not a JSON value"
    return f"{detail['msg']} (got `{given!r}`)"
