"""The storage interface and the records it keeps."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from slarules.actions import Action
from slarules.engine import EngineState, Rejected
from slarules.errors import SlaRulesError
from slarules.events import Event

__all__ = ["Change", "OutboxEntry", "Status", "Store", "StoreError", "TicketRecord"]

Status = Literal["pending", "done", "dead", "dropped"]


class StoreError(SlaRulesError):
    """The store cannot be used: locked by another process, unreadable, from a newer slarules."""


@dataclass(frozen=True)
class TicketRecord:
    """What a store keeps of a ticket besides its events."""

    fired: Sequence[int]  # fingerprints of the keys already given (Engine.fired_of)
    source: str | None
    wakeup: datetime | None  # its pending timer
    # Set while its timers wait for a fixed engine (Engine.timers_held_since).
    timers_held_since: datetime | None = None


@dataclass(frozen=True)
class Change:
    """Everything one step of the runtime changed, written in one transaction."""

    events: Sequence[tuple[Event, str | None]] = ()  # accepted events and their adapters
    tickets: Mapping[str, TicketRecord] = field(default_factory=dict)
    actions: Sequence[Action] = ()  # new outbox entries; a key already there is ignored
    rejected: Sequence[Rejected] = ()
    dropped: Sequence[int] = ()  # rejected input taken again: no longer kept
    now: datetime | None = None  # the instant the engine has advanced to


@dataclass(frozen=True)
class OutboxEntry:
    action: Action
    status: Status
    attempts: int
    next_attempt: datetime
    last_error: str | None = None


class Store(ABC):
    """Where the runtime keeps what must survive a crash."""

    @abstractmethod
    def load(self) -> EngineState:
        """Everything an engine needs to carry on (:meth:`Engine.restore`)."""

    @abstractmethod
    def events(self) -> Iterator[Event | str]:
        """Every event kept, in the order taken, as an event or as its JSON text, one at a time
        (a report over a large store replays them without loading them all at once)."""

    def event_spans(self, size: int) -> list[tuple[int, int]]:
        """The events kept cut in consecutive spans of about ``size`` events, in the order
        taken, for :meth:`events_in`: what processes that each read a span are given. A store
        that cannot cut its events gives them in one span."""
        return [(0, 0)]

    def events_in(self, span: tuple[int, int]) -> Iterator[Event | str]:
        """The events of one span of :meth:`event_spans`, in the order taken; also in a process
        forked after the spans were made (a store that has a connection opens its own there)."""
        return self.events()

    @abstractmethod
    def commit(self, change: Change) -> None:
        """Write ``change`` in one transaction, or raise :class:`StoreError` and write nothing."""

    @abstractmethod
    def due(self, now: datetime, limit: int = 100) -> list[OutboxEntry]:
        """Pending actions whose next attempt is due at ``now``, oldest first."""

    @abstractmethod
    def next_attempt(self) -> datetime | None:
        """When the earliest pending action is due."""

    @abstractmethod
    def settle(
        self,
        key: str,
        status: Status,
        attempts: int,
        next_attempt: datetime,
        error: str | None = None,
    ) -> None:
        """Record an attempt's outcome: done, pending again at ``next_attempt``, or dead."""

    @abstractmethod
    def outbox(self, status: Status | None = None) -> list[OutboxEntry]:
        """The outbox, or its entries with one status (``dead``: the dead letters)."""

    @abstractmethod
    def rejected(self) -> list[tuple[int, Rejected]]:
        """Rejected input, by id."""

    @abstractmethod
    def drop_rejected(self, ids: Sequence[int]) -> None:
        """Forget rejected input (after it was retried, or on purpose)."""

    @abstractmethod
    def pending_timers(self) -> int:
        """How many tickets wait on a timer."""

    def close(self) -> None:  # noqa: B027  (nothing to release, in memory)
        """Release the store's resources."""
