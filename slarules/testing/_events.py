"""Events written as briefly as a support lead would say them."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

__all__ = ["EventBuilder"]


class EventBuilder:
    """``events.created("T-1", "2026-03-02T09:00:00Z", status="open")``, each with a fresh id.

    Every method returns the event as a dict, ready for ``Engine.ingest`` or a JSON body.
    """

    def __init__(self, prefix: str = "evt") -> None:
        self._prefix = prefix
        self._ids = itertools.count(1)

    def make(self, ticket: str, kind: str, at: datetime | str, **extra: Any) -> dict[str, Any]:
        stamp = at.isoformat() if isinstance(at, datetime) else at
        return {
            "id": f"{self._prefix}-{next(self._ids)}",
            "ticket": ticket,
            "type": kind,
            "at": stamp,
            **extra,
        }

    def created(self, ticket: str, at: datetime | str, **fields: Any) -> dict[str, Any]:
        return self.make(ticket, "ticket.created", at, fields=fields)

    def updated(
        self, ticket: str, at: datetime | str, by: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        actor = {"id": by, "role": "agent"} if by else {"role": "system"}
        return self.make(ticket, "ticket.updated", at, fields=fields, actor=actor)

    def agent_reply(
        self, ticket: str, at: datetime | str, by: str = "ana", public: bool = True
    ) -> dict[str, Any]:
        actor = {"id": by, "role": "agent"}
        return self.make(ticket, "ticket.replied", at, actor=actor, public=public)

    def requester_reply(self, ticket: str, at: datetime | str) -> dict[str, Any]:
        return self.make(ticket, "ticket.replied", at, actor={"id": "rita", "role": "requester"})

    def contact(
        self, ticket: str, change: str, at: datetime | str, **fields: Any
    ) -> dict[str, Any]:
        return self.make(ticket, f"contact.{change}", at, fields=fields)
