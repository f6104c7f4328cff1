"""The Zendesk adapter: signed webhooks in, backfill from the API, ticket actions out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from slarules.actions import Action
from slarules.errors import PayloadError
from slarules.events import Event
from slarules.specs import ActionContext, InboundRequest
from slarules_zendesk.actions import TicketActions
from slarules_zendesk.backfill import events_from_audits, events_from_export_page
from slarules_zendesk.client import ZendeskClient
from slarules_zendesk.directory import Directory
from slarules_zendesk.settings import ZendeskSettings
from slarules_zendesk.signature import verify
from slarules_zendesk.webhooks import (
    events_from_subscription,
    events_from_trigger,
    is_subscription,
)

__all__ = ["ExportBatch", "ZendeskAdapter"]


@dataclass(frozen=True)
class ExportBatch:
    """The events of an incremental export and where the next export starts (``end_time``)."""

    events: list[Event] = field(default_factory=list)
    end_time: datetime | None = None


class ZendeskAdapter:
    """One Zendesk account, built from its :class:`ZendeskSettings`."""

    def __init__(self, settings: ZendeskSettings) -> None:
        self.settings = settings
        self.client = ZendeskClient(settings)
        own = [settings.api_user_id] if settings.api_user_id else []
        self.directory = Directory(self.client, own_users=own)
        self._own_users = frozenset(own)
        self._tolerance = timedelta(seconds=settings.signature_tolerance_seconds)
        self._actions = TicketActions(
            self.client,
            self.directory,
            notify_tag=settings.notify_tag,
            safe_update=settings.safe_update,
        )

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> ZendeskAdapter:
        return cls(ZendeskSettings.load(settings))

    def close(self) -> None:
        self.client.close()

    # -- requests in -----------------------------------------------------------------------

    def authenticate(self, request: InboundRequest) -> None:
        """Every Zendesk webhook is signed with the webhook's signing secret."""
        verify(request, self.settings.signing_secret, self._tolerance)

    def parse(self, request: InboundRequest) -> list[Event]:
        """The events of an event-subscription webhook, or of a trigger's webhook (completed
        from ``GET /tickets/{id}`` when its body lacks what it reports)."""
        body = request.json()
        if not isinstance(body, Mapping):
            raise PayloadError("body", "expected a JSON object (a Zendesk webhook body)")
        if is_subscription(body):
            return events_from_subscription(body, self._own_users)
        return events_from_trigger(body, self.client.ticket)

    # -- backfill --------------------------------------------------------------------------

    def ticket_events(self, ticket_id: str) -> list[Event]:
        """Everything one ticket's audits record, as events: its creation, every update of
        the fields policies read, and every comment after the first."""
        audits = self.client.audits(ticket_id)
        return events_from_audits(audits, self.directory.role, self.directory.is_own)

    def export_events(self, since: datetime) -> ExportBatch:
        """The events of every ticket update after ``since`` (incremental ticket events
        export, page after page until the end of the stream), and the ``end_time`` to start
        the next export from. Zendesk leaves out the last minute and allows 10 requests a
        minute; a ``429`` is an :class:`~slarules.errors.ActionError` with ``retry_after``."""
        events: list[Event] = []
        end_time: datetime | None = None
        for page in self.client.ticket_event_pages(_unix(since)):
            events += events_from_export_page(page, self.directory.role, self.directory.is_own)
            if isinstance(page.get("end_time"), int):
                end_time = datetime.fromtimestamp(page["end_time"], UTC)
        return ExportBatch(events, end_time)

    def reconcile(self, since: datetime) -> Iterator[Event]:
        """The events of every update after ``since``, for ``engine.ingest_many(events,
        source="zendesk")``; ids already ingested are skipped there."""
        yield from self.export_events(since).events

    # -- actions out -----------------------------------------------------------------------

    def execute(self, action: Action, context: ActionContext) -> None:
        self._actions.execute(action, context)


def _unix(instant: datetime) -> int:
    if instant.utcoffset() is None:
        raise ValueError(f"`since` must be aware, got {instant.isoformat()}")
    return int(instant.timestamp())
