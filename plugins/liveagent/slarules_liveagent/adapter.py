"""The LiveAgent adapter: Rules' HTTP requests in, reconciliation from the API, actions out."""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import JsonValue

from slarules.actions import Action
from slarules.errors import AuthenticationError
from slarules.events import Event
from slarules.specs import ActionContext, InboundRequest
from slarules_liveagent.account_time import AccountTime
from slarules_liveagent.actions import TicketActions
from slarules_liveagent.client import LiveAgentClient
from slarules_liveagent.directory import Directory
from slarules_liveagent.rules import RuleNotice, read_notice
from slarules_liveagent.settings import LiveAgentSettings
from slarules_liveagent.translate import (
    events_from_change,
    events_from_history,
    events_from_messages,
    events_from_ticket,
    history_start,
    ticket_id_of,
)

__all__ = ["TOKEN_HEADER", "LiveAgentAdapter"]

TOKEN_HEADER = "x-slarules-token"


class LiveAgentAdapter:
    """One LiveAgent account, built from its :class:`LiveAgentSettings`."""

    def __init__(self, settings: LiveAgentSettings) -> None:
        self.settings = settings
        self.timezone = settings.timezone
        self.client = LiveAgentClient(
            settings.api_url,
            settings.api_key,
            AccountTime(settings.timezone),
            timeout=settings.timeout_seconds,
        )
        self.directory = Directory(self.client)
        self._actions = TicketActions(
            self.client,
            self.directory,
            notify_tag=settings.notify_tag,
            hold_for=timedelta(hours=settings.hold_hours),
        )

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> LiveAgentAdapter:
        return cls(LiveAgentSettings.load(settings))

    def close(self) -> None:
        self.client.close()

    # -- requests in -----------------------------------------------------------------------

    def authenticate(self, request: InboundRequest) -> None:
        """LiveAgent does not sign its Rules' requests: each carries the shared token, in the
        ``X-Slarules-Token`` header or the ``token`` query parameter."""
        given = request.header(TOKEN_HEADER) or request.query.get("token")
        if not given:
            raise AuthenticationError(
                "missing token: send it in the `X-Slarules-Token` header or `?token=`"
            )
        if not hmac.compare_digest(given.encode(), self.settings.inbound_token.encode()):
            raise AuthenticationError("wrong token")

    def parse(self, request: InboundRequest) -> list[Event]:
        """The events a Rule reported. A ticket given by id alone is fetched, and so are its
        messages when a ``message_added`` request carries no ``message_group``."""
        notice = read_notice(request.json())
        ticket = notice.ticket if notice.has_full_ticket else self.client.ticket(notice.ticket_id)
        level: dict[str, JsonValue] = {"sla_level": notice.sla_level} if notice.sla_level else {}
        if notice.event == "ticket_created":
            return events_from_ticket(
                ticket, timezone=self.timezone, tag_names=self._tag_names(ticket), initial=level
            )
        if notice.event == "message_added":
            return self._replies(ticket, self._groups_of(notice))
        return events_from_change(
            notice.event,
            ticket,
            timezone=self.timezone,
            tag_names=self._tag_names(ticket),
            extra=level,
        )

    # -- reconciliation --------------------------------------------------------------------

    def reconcile(self, since: datetime) -> Iterator[Event]:
        """The events of every ticket changed after ``since``, from the API, one ticket after
        the other: what the Rules' requests missed while slarules was down, or never sent.
        Feed them to ``engine.ingest_many(events, source="liveagent")``; ids already ingested
        are skipped there."""
        for ticket in self.client.changed_since(since):
            yield from self.ticket_events(ticket_id_of(ticket))

    def ticket_events(self, ticket_id: str) -> list[Event]:
        """Everything the API knows about one ticket, as events: its creation (with the status,
        agent and department it started with, and its SLA level), every change in its history,
        and every reply."""
        ticket = self.client.ticket(ticket_id)
        rows = self.client.history(ticket_id)
        initial = history_start(rows, timezone=self.timezone)
        sla = self.client.ticket_sla(ticket_id) or {}
        if isinstance(sla.get("sla_level_name"), str) and sla["sla_level_name"]:
            initial["sla_level"] = sla["sla_level_name"]
        created = events_from_ticket(
            ticket, timezone=self.timezone, tag_names=self._tag_names(ticket), initial=initial
        )
        changes = events_from_history(ticket_id, rows, timezone=self.timezone)
        replies = self._replies(ticket, self.client.messages(ticket_id))
        return [*created, *changes, *replies]

    # -- actions out -----------------------------------------------------------------------

    def execute(self, action: Action, context: ActionContext) -> None:
        self._actions.execute(action)

    # -- helpers ---------------------------------------------------------------------------

    def _tag_names(self, ticket: Mapping[str, Any]) -> dict[str, str]:
        tag_ids = [str(tag) for tag in ticket.get("tags") or []]
        return self.directory.tag_names(tag_ids) if tag_ids else {}

    def _groups_of(self, notice: RuleNotice) -> Sequence[Mapping[str, Any]]:
        if notice.message_group is not None:
            return [notice.message_group]
        return self.client.messages(notice.ticket_id)

    def _replies(
        self, ticket: Mapping[str, Any], groups: Sequence[Mapping[str, Any]]
    ) -> list[Event]:
        ticket_id = ticket_id_of(ticket)
        authors = {
            str(author)
            for group in groups
            for author in [group.get("userid")]
            + [message.get("userid") for message in group.get("messages") or []]
            if author
        }
        created_at = AccountTime(self.timezone).parse(
            ticket.get("date_created"), "ticket.date_created"
        )
        return events_from_messages(
            ticket_id,
            groups,
            self.directory.agents_among(authors),
            timezone=self.timezone,
            created_at=created_at,
        )
