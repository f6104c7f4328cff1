"""The body of the HTTP request that a LiveAgent Rule sends (its "HTTP request" action).

LiveAgent lets the admin compose that body, so the adapter documents one
(docs/plugins/liveagent.md)::

    {"event": "status_changed",
     "ticket": {"id": "fp80688h", ...the Ticket object, or only its id...},
     "message_group": {...}, "sla_level": "Gold"}

``message_group`` is optional (``message_added`` only) and so is ``sla_level``. A ticket given
by its id alone is fetched from the API (``GET /tickets/{id}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slarules.errors import PayloadError
from slarules_liveagent.translate import ticket_id_of

__all__ = ["RULE_EVENTS", "RuleNotice", "read_notice"]

# One Rule per LiveAgent trigger, each with its own literal `event`.
RULE_EVENTS = ("ticket_created", "status_changed", "transferred", "message_added", "tags_changed")
# Without these a Ticket object cannot tell what changed and when: fetch it instead.
_TICKET_ESSENTIALS = ("status", "date_created", "date_changed")


@dataclass(frozen=True)
class RuleNotice:
    """What a Rule reported: the kind of event, the ticket, and what came with it."""

    event: str
    ticket_id: str
    ticket: Mapping[str, Any]
    message_group: Mapping[str, Any] | None = None
    sla_level: str | None = None

    @property
    def has_full_ticket(self) -> bool:
        return all(self.ticket.get(key) not in (None, "") for key in _TICKET_ESSENTIALS)


def read_notice(body: object) -> RuleNotice:
    """The notice in a Rule's JSON body, or :class:`PayloadError` naming the field at fault."""
    if not isinstance(body, Mapping):
        raise PayloadError("body", "expected a JSON object with `event` and `ticket`")
    event = body.get("event")
    if event not in RULE_EVENTS:
        raise PayloadError(
            "event", f"unknown event kind `{event}`; expected one of {', '.join(RULE_EVENTS)}"
        )
    if "ticket" not in body:
        raise PayloadError("ticket", 'required: the LiveAgent Ticket object, or `{"id": ...}`')
    ticket_id = ticket_id_of(body["ticket"])
    group = body.get("message_group")
    if group is not None and not isinstance(group, Mapping):
        raise PayloadError("message_group", "expected a LiveAgent MessageGroup object")
    level = body.get("sla_level")
    if level is not None and not (isinstance(level, str) and level):
        raise PayloadError("sla_level", "expected the name of the ticket's SLA level")
    return RuleNotice(str(event), ticket_id, body["ticket"], group, level)
