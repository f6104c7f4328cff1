"""The durable runner: an engine whose every change is written to a store before it is
acknowledged, whose timers fire when due, and whose actions go out through an outbox.

* :meth:`Runtime.ingest` and :meth:`Runtime.receive` write the events, the tickets' new state,
  the actions that became due and any rejected input in one transaction, then return: a caller
  that got an answer knows the input is durable.
* :meth:`Runtime.advance` fires the timers up to the runtime's clock, the same way.
* :meth:`Runtime.deliver_due` hands due actions to their plugins (:meth:`Engine.deliver`), marks
  them done by key, and retries failures with exponential backoff and full jitter (or after the
  delay a helpdesk asked for), until ``max_attempts``: then the action is a dead letter.
* :meth:`Runtime.run` does both in a loop that sleeps until the next timer or retry is due.

A restart (:meth:`Runtime.open` on the same store) carries on: pending timers fire, undelivered
actions go out, and nothing already given is given again. The wall clock is read only here, at
the edge, through ``clock``; the engine never reads it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from slarules.actions import Action
from slarules.dsl.loader import load_policies
from slarules.durations import format_duration
from slarules.engine import Delivery, Engine, EventInput, Journal, Rejected
from slarules.metrics import TicketClocks
from slarules.plugins import Plugins
from slarules.specs import InboundRequest
from slarules.store import Change, OutboxEntry, Store, StoreError, TicketRecord

__all__ = ["DEFAULT_MAX_AGE", "Backoff", "Ingested", "Runtime"]

Clock = Callable[[], datetime]
_logger = logging.getLogger("slarules.runtime")
_RECOVER = 1.0  # seconds before the loop tries again after a failure
# Reminders and alerts a day late help nobody; a backfill of old events must not flood anyone.
DEFAULT_MAX_AGE = timedelta(hours=24)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt ``n`` waits a uniform random time in
    ``[0, min(cap, base * factor ** (n - 1))]`` seconds, so that many failed deliveries do not
    retry in step."""

    base: float = 1.0
    factor: float = 2.0
    cap: float = 3600.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap, self.base * self.factor ** (attempt - 1)))


class Ingested(NamedTuple):
    """What a batch gave: the actions it made due, the events it rejected (kept), and how many
    of its events were repeats of ones already taken (ignored)."""

    actions: list[Action]
    rejected: list[Rejected]
    duplicates: int


class Runtime:
    """An engine and a store kept in step; safe to call from several threads."""

    def __init__(
        self,
        engine: Engine,
        store: Store,
        *,
        clock: Clock = _wall_clock,
        max_attempts: int = 8,
        max_age: timedelta | None = DEFAULT_MAX_AGE,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """``max_age``: an action that became due longer ago than this before its first delivery
        (a backfill of old events, a long outage) is not sent but kept as a dead letter, which
        ``slarules deadletters retry`` can still send; ``None`` sends everything."""
        self.engine = engine
        self.store = store
        self.clock = clock
        self.max_attempts = max_attempts
        self.max_age = max_age
        self.backoff = backoff or Backoff()
        self._rng = rng or random.Random()
        self.timer_lag = timedelta(0)  # how late the last timer fired, for /metrics
        self._lock = threading.RLock()
        self._delivering = threading.Lock()  # one delivery round at a time: no double sends
        self._wake = threading.Condition(self._lock)
        engine.take_journal()  # start recording what changes

    @classmethod
    def open(
        cls,
        policy_file: str | Path,
        store: Store,
        *,
        plugins: Iterable[object] = (),
        settings: Mapping[str, Mapping[str, str]] | None = None,
        clock: Clock = _wall_clock,
        max_attempts: int = 8,
        max_age: timedelta | None = DEFAULT_MAX_AGE,
        backoff: Backoff | None = None,
        rng: random.Random | None = None,
    ) -> Runtime:
        """A runtime that carries on from what ``store`` holds."""
        manager = Plugins(plugins, settings=settings)
        policies = load_policies(policy_file, manager.vocabulary())
        state = store.load()
        engine = Engine.restore(policies, state, plugins=manager)
        runtime = cls(
            engine,
            store,
            clock=clock,
            max_attempts=max_attempts,
            max_age=max_age,
            backoff=backoff,
            rng=rng,
        )
        if state.now is None:
            # A new service starts its schedules now: events it is then sent from the past (a
            # backfill) are clocked exactly, but the cron runs it was not there for are not run.
            runtime.advance()
        return runtime

    # -- input ---------------------------------------------------------------------------------

    def ingest(self, event: EventInput, source: str | None = None) -> list[Action]:
        """Ingest one event durably: when this returns, the event and what it caused are stored.
        A bad event is stored as rejected, then :class:`EventError` is raised."""
        with self._lock:
            actions: list[Action] = []
            try:
                actions = self.engine.ingest(event, source)
                return actions
            finally:
                self._commit(actions)

    def ingest_many(self, events: Iterable[EventInput], source: str | None = None) -> Ingested:
        """Ingest a batch in one transaction: the good events and the rejected ones (kept) are
        stored together; return the actions, the rejections and the repeats ignored."""
        with self._lock:
            engine = self.engine
            known, repeats = len(engine.rejected), engine.stats.duplicates
            actions: list[Action] = []
            try:
                actions = engine.ingest_many(events, source)
                return Ingested(actions, engine.rejected[known:], engine.stats.duplicates - repeats)
            finally:
                self._commit(actions)

    def receive(self, adapter: str, request: InboundRequest) -> list[Action]:
        """Take a helpdesk's request through its adapter, durably (see :meth:`Engine.receive`)."""
        with self._lock:
            actions: list[Action] = []
            try:
                actions = self.engine.receive(adapter, request)
                return actions
            finally:
                self._commit(actions)

    def advance(self) -> list[Action]:
        """Fire every timer due at the runtime's clock, durably."""
        with self._lock:
            now = self.clock()
            due = self.engine.next_wakeup()
            if due is not None and due <= now:
                self.timer_lag = now - due
            actions: list[Action] = []
            try:
                actions = self.engine.advance(now)
                return actions
            finally:
                self._commit(actions, now)

    def retry_rejected(self, ids: Iterable[int] | None = None) -> list[Action]:
        """Take rejected input again (all of it, or the given ids); what fails again is kept."""
        with self._lock:
            stored = dict(self.store.rejected())
            chosen = list(stored) if ids is None else [id_ for id_ in ids if id_ in stored]
            engine = self.engine
            engine.rejected = [stored[id_] for id_ in chosen]
            actions: list[Action] = []
            try:
                actions = engine.retry_rejected()
                return actions
            finally:
                # What is rejected again is in the journal anew; the old records go.
                self._commit(actions, dropped=chosen)

    def reload(self, policy_file: str | Path) -> None:
        """Run a new policy file from now on. It is validated first: on a
        :class:`PolicyError` the old policies keep running."""
        policies = load_policies(policy_file, self.engine.plugins.vocabulary())
        with self._lock:
            stats = self.engine.stats  # the process's counters go on
            self.engine = Engine.restore(policies, self.store.load(), plugins=self.engine.plugins)
            self.engine.stats = stats
            self.engine.take_journal()

    # -- the outbox ----------------------------------------------------------------------------

    def deliver_due(self, limit: int = 100) -> list[Delivery]:
        """Deliver the actions due now; return the outcomes."""
        with self._delivering:
            with self._lock:
                now = self.clock()
                entries = self._unexpired(self.store.due(now, limit), now)
            # Plugins talk to helpdesks over the network: not while holding the engine's lock.
            deliveries = [self.engine.deliver(e.action, e.attempts + 1) for e in entries]
            with self._lock:
                for entry, delivery in zip(entries, deliveries, strict=True):
                    self._settle(entry, delivery, now)
            return deliveries

    def measure(
        self, within: timedelta | None = None
    ) -> tuple[datetime, list[TicketClocks], list[OutboxEntry]]:
        """The runtime's instant, every ticket's clocks then (or, ``within`` a stretch, those of
        the tickets with a clock open or started in it: see :meth:`Engine.measure`), and the
        outbox, read under one lock: what a dashboard shows, never a mix of before and after an
        event."""
        with self._lock:
            now = self.clock()
            since = None if within is None else now - within
            return now, list(self.engine.measure(now, since=since)), self.store.outbox()

    def dead_letters(self) -> list[OutboxEntry]:
        return self.store.outbox("dead")

    def retry_dead(self, keys: Iterable[str] | None = None) -> int:
        """Queue dead letters for delivery again, with their attempts counted from zero."""
        with self._lock:
            chosen = set(keys) if keys is not None else None
            now = self.clock()
            count = 0
            for entry in self.store.outbox("dead"):
                if chosen is None or entry.action.key in chosen:
                    self.store.settle(entry.action.key, "pending", 0, now, entry.last_error)
                    count += 1
            self._wake.notify_all()
            return count

    # -- the loop ------------------------------------------------------------------------------

    def next_deadline(self) -> datetime | None:
        """The earliest instant at which a timer or a delivery attempt is due."""
        with self._lock:
            candidates = [self.engine.next_wakeup(), self.store.next_attempt()]
        return min((c for c in candidates if c is not None), default=None)

    def run(self, stop: threading.Event, idle: float = 60.0) -> None:
        """Fire timers and deliver actions until ``stop`` is set, sleeping in between. Deliveries
        have a thread of their own: a helpdesk slow to answer (up to its timeout, and again at
        each retry) delays the deliveries after it, never a timer, a breach or a warning."""
        delivering = threading.Thread(
            target=self._loop,
            args=(stop, idle, self.deliver_due, self._next_attempt),
            name="slarules-delivery",
        )
        delivering.start()
        try:
            self._loop(stop, idle, self._fire_due, self._next_wakeup)
        finally:
            stop.set()
            self.wake()
            delivering.join()

    def _loop(
        self,
        stop: threading.Event,
        idle: float,
        work: Callable[[], object],
        next_due: Callable[[], datetime | None],
    ) -> None:
        while not stop.is_set():
            try:
                work()
            except Exception:
                # A full disk or a locked file must not end the loop: it tries again shortly,
                # and the input it could not store was never acknowledged.
                _logger.exception("the runtime loop failed; trying again in %s s", _RECOVER)
                stop.wait(_RECOVER)
                continue
            with self._wake:
                deadline, wait = next_due(), idle
                if deadline is not None:
                    wait = min(idle, max(0.0, (deadline - self.clock()).total_seconds()))
                if wait > 0 and not stop.is_set():
                    self._wake.wait(wait)

    def timers_late_by(self) -> timedelta:
        """How late timers are: the last one fired, or one due and not fired yet (a loop held
        up), whichever is later."""
        with self._lock:
            due = self.engine.next_wakeup()
            waiting = self.clock() - due if due is not None else timedelta(0)
        return max(self.timer_lag, waiting)

    def _fire_due(self) -> None:
        if self.advance():
            self.wake()  # the delivery loop: actions wait in the outbox

    def _next_wakeup(self) -> datetime | None:
        return self.engine.next_wakeup()

    def _next_attempt(self) -> datetime | None:
        return self.store.next_attempt()

    def wake(self) -> None:
        """Make :meth:`run` look again now (after new input, or on shutdown)."""
        with self._wake:
            self._wake.notify_all()

    def close(self) -> None:
        self.wake()
        self.store.close()

    # -- inside --------------------------------------------------------------------------------

    def _commit(
        self, actions: list[Action], now: datetime | None = None, dropped: Iterable[int] = ()
    ) -> None:
        engine = self.engine
        journal: Journal = engine.take_journal()
        tickets = {
            ticket: TicketRecord(
                engine.fired_of(ticket),
                engine.source_of(ticket),
                engine.wakeup_of(ticket),
                engine.timers_held_since(ticket),
            )
            for ticket in journal.tickets
        }
        change = Change(
            events=journal.events,
            tickets=tickets,
            actions=actions,
            rejected=journal.rejected,
            dropped=list(dropped),
            now=now,
        )
        try:
            self.store.commit(change)
        except StoreError:
            # Not stored, so not acknowledged: the engine forgets it too, or the caller's retry
            # would be ignored as a duplicate and the input lost.
            self._rebuild()
            raise
        engine.rejected.clear()  # kept in the store, not twice in memory
        if actions:
            self._wake.notify_all()

    def _unexpired(self, entries: list[OutboxEntry], now: datetime) -> list[OutboxEntry]:
        """The entries to deliver; those too old to be sent a first time become dead letters."""
        if self.max_age is None:
            return entries
        oldest = now - self.max_age
        fresh = []
        for entry in entries:
            # Never tried and never given up on: a dead letter queued again is sent, however old.
            untried = entry.attempts == 0 and entry.last_error is None
            if untried and entry.action.at < oldest:
                reason = (
                    f"expired: due at {entry.action.at.isoformat()}, more than "
                    f"{format_duration(self.max_age)} before it could first be sent"
                )
                self.store.settle(entry.action.key, "dead", 0, now, reason)
            else:
                fresh.append(entry)
        return fresh

    def _rebuild(self) -> None:
        engine = self.engine
        self.engine = Engine.restore(engine.policies, self.store.load(), plugins=engine.plugins)
        self.engine.take_journal()

    def _settle(self, entry: OutboxEntry, delivery: Delivery, now: datetime) -> None:
        key, attempts = entry.action.key, entry.attempts + 1
        if delivery.ok:
            self.store.settle(key, "done", attempts, now)
        elif delivery.permanent or attempts >= self.max_attempts:
            self.store.settle(key, "dead", attempts, now, delivery.error)
        else:
            wait = self.backoff.delay(attempts, self._rng)
            if delivery.retry_after is not None:
                wait = max(wait, delivery.retry_after)
            self.store.settle(
                key, "pending", attempts, now + timedelta(seconds=wait), delivery.error
            )
