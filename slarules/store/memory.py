"""A store in memory: the contract of :class:`~slarules.store.Store` without a file, for tests
and for hosts that persist :meth:`Engine.snapshot` themselves."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from slarules.engine import EngineState, EngineStats, Rejected, TicketHistory
from slarules.events import Event
from slarules.store._base import Change, OutboxEntry, Status, Store, TicketRecord

__all__ = ["MemoryStore"]

_NO_RECORD = TicketRecord(fired=(), source=None, wakeup=None)  # a ticket no step recorded yet


class MemoryStore(Store):
    def __init__(self) -> None:
        self._events: list[Event] = []  # in the order taken
        self._tickets: dict[str, TicketRecord] = {}
        self._outbox: dict[str, OutboxEntry] = {}
        self._rejected: dict[int, Rejected] = {}
        self._ids = itertools.count(1)
        self._now: datetime | None = None

    def load(self) -> EngineState:
        by_ticket: dict[str, list[Event]] = {}
        for event in self._events:
            by_ticket.setdefault(event.ticket, []).append(event)
        tickets = []
        for ticket, events in by_ticket.items():
            record = self._tickets.get(ticket, _NO_RECORD)
            tickets.append(
                TicketHistory(
                    ticket=ticket,
                    events=[event.model_dump(mode="json") for event in events],
                    fired=list(record.fired),
                    source=record.source,
                    timers_held_since=record.timers_held_since,
                )
            )
        return EngineState(
            now=self._now,
            tickets=tickets,
            rejected=list(self._rejected.values()),
            stats=EngineStats(),  # counters start from zero with the process
        )

    def events(self) -> Iterator[Event]:
        yield from list(self._events)

    def event_spans(self, size: int) -> list[tuple[int, int]]:
        taken = len(self._events)
        return [(start, min(start + size, taken)) for start in range(0, taken, size)] or [(0, 0)]

    def events_in(self, span: tuple[int, int]) -> Iterator[Event]:
        yield from self._events[span[0] : span[1]]

    def commit(self, change: Change) -> None:
        self._events += (event for event, _ in change.events)
        self._tickets.update(change.tickets)
        for action in change.actions:
            self._outbox.setdefault(action.key, OutboxEntry(action, "pending", 0, action.at))
        for rejected in change.rejected:
            self._rejected[next(self._ids)] = rejected
        self.drop_rejected(change.dropped)
        if change.now is not None:
            self._now = change.now

    def due(self, now: datetime, limit: int = 100) -> list[OutboxEntry]:
        due = [e for e in self._outbox.values() if e.status == "pending" and e.next_attempt <= now]
        return sorted(due, key=lambda entry: entry.next_attempt)[:limit]

    def next_attempt(self) -> datetime | None:
        pending = [e.next_attempt for e in self._outbox.values() if e.status == "pending"]
        return min(pending, default=None)

    def settle(
        self,
        key: str,
        status: Status,
        attempts: int,
        next_attempt: datetime,
        error: str | None = None,
    ) -> None:
        entry = self._outbox[key]
        self._outbox[key] = replace(
            entry, status=status, attempts=attempts, next_attempt=next_attempt, last_error=error
        )

    def outbox(self, status: Status | None = None) -> list[OutboxEntry]:
        return [e for e in self._outbox.values() if status is None or e.status == status]

    def rejected(self) -> list[tuple[int, Rejected]]:
        return list(self._rejected.items())

    def drop_rejected(self, ids: Sequence[int]) -> None:
        for id_ in ids:
            self._rejected.pop(id_, None)

    def pending_timers(self) -> int:
        return sum(record.wakeup is not None for record in self._tickets.values())
