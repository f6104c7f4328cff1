"""The engine: events in, clocks, actions and timers out, for every ticket of a policy set.

The engine keeps each ticket's history and its derived state (:mod:`slarules._ticket`). An event
that arrives in time order advances the state by one step; a late one makes the ticket replay its
history. Either way the result is the same, and an action whose key was already returned is never
returned again. ``now`` always comes from the caller.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import logging
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NoReturn

from pydantic import AwareDatetime, BaseModel, ConfigDict, JsonValue

from slarules._history import Record, add, has_id, instant_and_id, last, pack, records, unpack
from slarules._instants import from_micros, to_micros
from slarules._program import Program, ScheduleProgram, compile_program
from slarules._ticket import (
    Breach,
    Emit,
    TicketState,
    Transition,
    discard,
    frozen_in_view,
    replay,
)
from slarules.actions import Action
from slarules.clocks import Clock
from slarules.dsl.loader import load_policies, parse_policies
from slarules.errors import (
    ActionError,
    AuthenticationError,
    EventError,
    PayloadError,
    PluginError,
    SlaRulesError,
    failure_text,
)
from slarules.events import Event
from slarules.metrics import TicketClocks
from slarules.plugins import Plugins
from slarules.policyset import PolicySet
from slarules.schedules import next_run, run_schedule
from slarules.specs import Adapter, InboundRequest

__all__ = [
    "Delivery",
    "Engine",
    "EngineState",
    "EngineStats",
    "Explanation",
    "Journal",
    "Rejected",
]

EventInput = Event | Mapping[str, Any] | str | bytes
_logger = logging.getLogger("slarules.engine")
# How many tickets at rest an engine keeps thawed, the latest to come to rest: about 2.5 KB
# each over a frozen one's 0.8 KB: under 2 MB, whatever the engine holds.
_THAWED_AT_REST = 1024
Stage = Literal["event", "payload", "authentication", "adapter"]


class Rejected(BaseModel):
    """Input the engine could not take, kept with the reason so it can be fixed and retried.

    ``stage`` says what failed: a normalized ``event``, or, for a request to an ``adapter``
    (then ``payload`` is the body as text, with the request's ``headers``, ``query`` and
    ``received_at``), its ``authentication``, its ``payload``, or the ``adapter`` itself: it
    could not start (a missing setting), or its ``authenticate`` raised something else than an
    authentication error. A retry parses a payload again, and takes a request whose adapter
    failed through the adapter from the start, authentication included. Authentication failures
    are kept for inspection only: retrying them cannot help.
    """

    model_config = ConfigDict(frozen=True)

    payload: JsonValue
    reason: str
    problems: tuple[tuple[str, str], ...]
    stage: Stage = "event"
    adapter: str | None = None
    headers: dict[str, str] = {}
    query: dict[str, str] = {}
    received_at: AwareDatetime | None = None

    def request(self) -> InboundRequest:
        """The request to the adapter, as it was received."""
        return InboundRequest(
            body=str(self.payload).encode(),
            headers=self.headers,
            query=self.query,
            received_at=self.received_at or datetime.min.replace(tzinfo=UTC),
        )


class Delivery(BaseModel):
    """The outcome of executing one action: done, or the error, and whether to try again.

    ``permanent`` failures (no adapter for the ticket, a ``404``) cannot succeed by retrying as
    is; ``retry_after`` is the delay the helpdesk asked for."""

    model_config = ConfigDict(frozen=True)

    action: Action
    attempt: int
    error: str | None = None
    retry_after: float | None = None
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class EngineStats(BaseModel):
    events: int = 0  # accepted
    duplicates: int = 0  # ignored: an event id the ticket already had
    rejected: int = 0
    replays: int = 0  # late events that made a ticket re-evaluate its history
    actions: int = 0
    delivered: int = 0
    failed: int = 0  # execution attempts that raised


@dataclass
class Journal:
    """What an engine changed since the last :meth:`Engine.take_journal`."""

    events: list[tuple[Event, str | None]] = field(default_factory=list)
    tickets: set[str] = field(default_factory=set)
    rejected: list[Rejected] = field(default_factory=list)


class TicketHistory(BaseModel):
    ticket: str
    events: list[dict[str, JsonValue]]
    fired: list[int]  # fingerprints of the keys of the actions already returned
    source: str | None = None  # the adapter that feeds the ticket
    # Set when the engine failed on a timer of the ticket (a bug): the instant of its last step
    # before. What came due after it was never given; a fixed engine makes it up.
    timers_held_since: datetime | None = None


class EngineState(BaseModel):
    """Everything an engine needs to carry on after a restart: histories, returned action keys,
    the instant it has advanced to, rejected events and counters. Clocks are derived from these.
    """

    now: datetime | None
    tickets: list[TicketHistory]
    rejected: list[Rejected]
    failed: list[Delivery] = []
    stats: EngineStats


class Explanation(BaseModel):
    """Why each clock is where it is: the transitions of a ticket in order, with their causes."""

    ticket: str
    transitions: tuple[ExplainedTransition, ...]
    clocks: tuple[Clock, ...]

    def render(self) -> str:
        lines = [f"ticket {self.ticket}"]
        for row in self.transitions:
            lines.append(f"  {row.at.isoformat()}  {row.subject}: {row.change}  [{row.cause}]")
        for clock in self.clocks:
            due = clock.due_at.isoformat() if clock.due_at else "-"
            breached = (
                f", breached after {clock.breached_at.isoformat()}" if clock.breached_at else ""
            )
            lines.append(
                f"  = {clock.metric} #{clock.cycle}: {clock.state.value}, {clock.percent:g}% of "
                f"target used, due {due}{breached}"
            )
        return "\n".join(lines)


class ExplainedTransition(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    subject: str
    change: str
    cause: str


class _Ticket:
    """A ticket's history, the actions already returned, and its derived state.

    Returned actions are remembered by a 64-bit fingerprint of their key rather than the key: a
    ticket returns a handful of actions, so a collision is out of reach, and an open ticket
    stays small. A ticket at rest (no timer pending: solved, waiting on the requester, or with
    no target left running) keeps its state frozen, a third of its size, until an event moves
    it, once the engine has let it rest for a while (``Engine._rest``); half the tickets an
    engine holds are at rest."""

    __slots__ = ("fired", "history", "state")

    def __init__(self, ticket: str) -> None:
        self.history = b""  # packed events, in time order (see _history)
        self.fired: array[int] | None = None  # unboxed: 8 bytes an action
        self.state: TicketState | bytes = TicketState(ticket)  # bytes: frozen

    def live(self, program: Program) -> TicketState:
        """The state, to move it: thawed for good if the ticket was at rest."""
        state = self.state
        if isinstance(state, bytes):
            state = self.state = TicketState.thaw(program, state)
        return state

    def read(self, program: Program) -> TicketState:
        """The state, to read it: a thawed copy if the ticket is at rest, which stays so."""
        state = self.state
        return TicketState.thaw(program, state) if isinstance(state, bytes) else state

    def rest(self, program: Program) -> None:
        state = self.state
        if isinstance(state, TicketState) and state.at_rest:
            self.state = state.freeze(program)

    def in_view(self, at: int, since: int, timers_move_clocks: bool) -> bool:
        state = self.state
        if isinstance(state, bytes):
            return frozen_in_view(state, at, since)
        return state.in_view(at, since, timers_move_clocks)

    @property
    def wakeup(self) -> int | None:
        state = self.state
        return None if isinstance(state, bytes) else state.wakeup


class Engine:
    """The SLA engine of one policy set.

    >>> engine = Engine.from_text('policy "All" { applies when true  first_response within 1h }')
    >>> engine.ingest({"id": "e1", "ticket": "T-1", "type": "ticket.created",
    ...                "at": "2026-03-02T09:00:00Z"})
    []
    >>> engine.next_wakeup().isoformat()
    '2026-03-02T10:00:00.000001+00:00'
    """

    def __init__(
        self,
        policies: PolicySet,
        *,
        plugins: Iterable[object] | Plugins = (),
        block: Iterable[str] = (),
        entry_points: bool = True,
        settings: Mapping[str, Mapping[str, str]] | None = None,
        actions: bool = True,
    ) -> None:
        """``plugins`` registers plugin objects in code, besides the installed ones (unless
        ``entry_points`` is false); ``block`` names plugins not to load; ``settings`` maps a plugin
        name to its settings (the environment's ``SLARULES_<PLUGIN>_<KEY>`` fill in the rest).

        ``actions=False`` makes an engine for reports: the same clocks, but no trigger, warning
        or schedule, and no timer unless a clock needs one; it replays several times faster."""
        if not isinstance(plugins, Plugins):
            plugins = Plugins(plugins, block=block, entry_points=entry_points, settings=settings)
        self.plugins = plugins
        _check_actions(policies, plugins)
        self.policies = policies
        program = compile_program(policies)
        self._program: Program = program if actions else program.without_actions()
        self._tickets: dict[str, _Ticket] = {}
        # The tickets that came to rest lately, oldest first, kept thawed (see _rest).
        self._resting: dict[str, None] = {}
        # Tickets a restore could not replay (a bug): kept as saved, for a fixed engine.
        self._set_aside: dict[str, TicketHistory] = {}
        # Tickets whose timers the engine failed on (a bug), and the instant of their last step
        # before: they wait, unqueued, for a fixed engine (a restart), which makes up what came
        # due since then (`_owed`).
        self._held: dict[str, int] = {}
        # Per ticket restored with held timers: that instant, and the actions and notices that
        # came due since, given by the next `advance`.
        self._owed: dict[str, tuple[int, list[Action | Breach]]] = {}
        self._sources: dict[str, str] = {}
        self._timers: list[tuple[int, str]] = []
        self._now: int | None = None
        # Schedules run from here until the engine first advances (then from its instant).
        self._first_event_at: int | None = None
        self._breaches: list[Breach] = []
        self._journal: Journal | None = None
        self.rejected: list[Rejected] = []
        self.failed: list[Delivery] = []
        self.stats = EngineStats()

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        plugins: Iterable[object] = (),
        block: Iterable[str] = (),
        entry_points: bool = True,
        settings: Mapping[str, Mapping[str, str]] | None = None,
        actions: bool = True,
    ) -> Engine:
        """An engine for a policy file, its names checked against the plugins it loads."""
        manager = Plugins(plugins, block=block, entry_points=entry_points, settings=settings)
        return cls(load_policies(path, manager.vocabulary()), plugins=manager, actions=actions)

    @classmethod
    def from_text(
        cls,
        text: str,
        source: str = "<text>",
        *,
        plugins: Iterable[object] = (),
        block: Iterable[str] = (),
        entry_points: bool = True,
        settings: Mapping[str, Mapping[str, str]] | None = None,
        actions: bool = True,
    ) -> Engine:
        manager = Plugins(plugins, block=block, entry_points=entry_points, settings=settings)
        policies = parse_policies(text, source, manager.vocabulary())
        return cls(policies, plugins=manager, actions=actions)

    # -- input ---------------------------------------------------------------------------------

    def ingest(self, event: EventInput, source: str | None = None) -> list[Action]:
        """Take one event; return the actions that became due up to its instant (or up to the
        instant the engine has advanced to, for a late event). A bad event raises
        :class:`EventError` and is kept in :attr:`rejected`. ``source`` names the adapter of the
        helpdesk the ticket lives in, which carries out its ticket actions (:meth:`execute`)."""
        try:
            parsed = Event.parse(event)
        except EventError as error:
            self._reject(event, error)
            raise
        actions = self._ingest(parsed, source)
        return self._notify(self._catch_up(actions))

    def ingest_many(self, events: Iterable[EventInput], source: str | None = None) -> list[Action]:
        """Take events in arrival order; bad ones go to :attr:`rejected` and the rest go on.
        The batch is taken whole before time catches up with the instant the engine has
        advanced to: a call offered and answered in the past, delivered together, is answered
        in time, and no alert says it was missed."""
        actions: list[Action] = []
        for event in events:
            try:
                parsed = Event.parse(event)
            except EventError as error:
                self._reject(event, error)
                continue
            with contextlib.suppress(EventError):  # the engine failed on it: kept, as above
                actions += self._ingest(parsed, source)
        return self._notify(self._catch_up(actions))

    def receive(self, adapter: str, request: InboundRequest) -> list[Action]:
        """Take a request that a helpdesk sent to ``adapter``: authenticate it, turn it into
        events, ingest them. Raises :class:`AuthenticationError` or :class:`PayloadError` (or
        :class:`PluginError` for an adapter's bug, and :class:`ActionError` when the helpdesk's
        API failed for now while the adapter read more of the ticket); the request is kept in
        :attr:`rejected`."""
        handler = self._adapter_for(adapter, request)
        try:
            handler.authenticate(request)
        except AuthenticationError as error:
            self._reject_request(adapter, request, "authentication", str(error), ())
            raise
        except Exception as error:
            self._reject_request(adapter, request, "adapter", failure_text(error), ())
            raise PluginError(f"adapter `{adapter}` failed: {failure_text(error)}") from error
        return self._parse(adapter, handler.parse, request)

    def retry_rejected(self) -> list[Action]:
        """Take the rejected events and payloads again (after a fix in a plugin, a mapping or the
        host); those that still fail stay rejected, and so do authentication failures."""
        waiting = [item for item in self.rejected if item.stage != "authentication"]
        self.rejected = [item for item in self.rejected if item.stage == "authentication"]
        self.stats.rejected -= len(waiting)
        actions = self.ingest_many(item.payload for item in waiting if item.stage == "event")  # type: ignore[misc]
        for item in waiting:
            if item.adapter is None or item.stage == "event":
                continue
            request = item.request()
            try:
                if item.stage == "adapter":
                    actions += self.receive(item.adapter, request)
                else:
                    handler = self._adapter_for(item.adapter, request)
                    actions += self._parse(item.adapter, handler.parse, request)
            except SlaRulesError:
                if item.adapter not in self.plugins.adapters:
                    self._keep(item)  # the adapter is gone: kept as it was
                # else kept again, by the stage that failed this time
        return actions

    # -- actions -------------------------------------------------------------------------------

    def execute(self, actions: Iterable[Action], attempt: int = 1) -> list[Delivery]:
        """Carry out actions through the plugins that own them. Failures never raise: they are
        returned, kept in :attr:`failed` for :meth:`retry_failed`, and reported through the
        ``slarules_on_action_failed`` hook."""
        deliveries = [self.deliver(action, attempt) for action in actions]
        self.failed += [delivery for delivery in deliveries if not delivery.ok]
        return deliveries

    def retry_failed(self, permanent: bool = False) -> list[Delivery]:
        """Execute the failed actions again, and with ``permanent`` those that failed for good
        too (after a fix: a setting, a mapping); those that fail again stay in :attr:`failed`.
        The engine reads no clock: the host waits out the deliveries' ``retry_after`` first."""
        waiting = [item for item in self.failed if permanent or not item.permanent]
        self.failed = [item for item in self.failed if item.permanent and not permanent]
        deliveries = [self.deliver(item.action, item.attempt + 1) for item in waiting]
        self.failed += [delivery for delivery in deliveries if not delivery.ok]
        return deliveries

    def source_of(self, ticket_id: str) -> str | None:
        """The adapter that feeds the ticket, if any."""
        return self._sources.get(ticket_id)

    def take_journal(self) -> Journal:
        """What changed since the last call: accepted events, tickets stepped, rejected input.

        The engine records nothing until the first call, so that hosts that keep no store pay
        nothing; a durable runner (:mod:`slarules.runtime`) calls it after each operation."""
        journal = self._journal or Journal()
        self._journal = Journal()
        return journal

    def wakeup_of(self, ticket_id: str) -> datetime | None:
        """The ticket's next timer, if any (none while it is set aside)."""
        if ticket_id in self._set_aside:
            return None
        wakeup = self._ticket(ticket_id).wakeup
        return None if wakeup is None else from_micros(wakeup)

    def fired_of(self, ticket_id: str) -> list[int]:
        """Fingerprints of the keys of the actions and notices a ticket has given: what a store
        keeps, with the events, so that a restored engine gives none of them again."""
        saved = self._set_aside.get(ticket_id)
        if saved is not None:
            return sorted(saved.fired)
        return sorted(self._ticket(ticket_id).fired or ())

    def timers_held_since(self, ticket_id: str) -> datetime | None:
        """Set when the engine failed on a timer of the ticket (a bug): the instant of its last
        step before. Its timers wait for a fixed engine, which gives what came due since; a
        store keeps it with the events."""
        saved = self._set_aside.get(ticket_id)
        if saved is not None:
            return saved.timers_held_since
        held = self._held.get(ticket_id)
        if held is None and ticket_id in self._owed:
            held = self._owed[ticket_id][0]  # made up, not given yet
        return None if held is None else from_micros(held)

    def _history_of(self, ticket_id: str) -> TicketHistory:
        ticket = self._ticket(ticket_id)
        return TicketHistory(
            ticket=ticket_id,
            events=[unpack(packed).to_event(ticket_id) for packed in records(ticket.history)],
            fired=self.fired_of(ticket_id),
            source=self._sources.get(ticket_id),
            timers_held_since=self.timers_held_since(ticket_id),
        )

    def advance(self, now: datetime) -> list[Action]:
        """Fire every timer and run every schedule up to ``now``; return the actions, in the
        order they became due."""
        until = to_micros(now, "now")
        actions: list[Action] = []
        self._give_owed(actions)
        for when, schedule in self._schedule_runs(until):
            self._fire_timers(when, actions)
            since = None if schedule.lookback is None else when - schedule.lookback
            measure = functools.partial(self._measure_all, when, since)
            ran = run_schedule(schedule, when, measure)
            self.stats.actions += len(ran)
            actions += ran
        self._fire_timers(until, actions)
        self._now = until if self._now is None else max(self._now, until)
        actions.sort(key=lambda action: action.at)
        return self._notify(actions)

    def _fire_timers(self, until: int, actions: list[Action]) -> None:
        while self._timers and self._timers[0][0] <= until:
            when, ticket_id = heapq.heappop(self._timers)
            ticket = self._timer_of(when, ticket_id)
            if ticket is None:
                continue
            given, fired, breaches = len(actions), len(ticket.fired or ()), len(self._breaches)
            state = ticket.live(self._program)
            since = state.last_step
            assert since is not None  # a timer is set by a step
            try:
                state.run_timers(self._program, until, self._collector(ticket, actions), None)
            except Exception:
                # A bug on one ticket's timer must not hold back the others': that ticket is
                # put back as it was and waits, unqueued, for a fixed engine (a restart).
                _logger.exception("the engine failed on a timer of ticket `%s`", ticket_id)
                self._forget_fired(ticket, fired, breaches, actions, given)
                self._held[ticket_id] = since
                try:
                    ticket.state = replay(self._program, ticket_id, ticket.history, since, discard)
                except Exception:
                    self._put_aside(ticket_id)
                    continue
                if self._journal is not None:
                    self._journal.tickets.add(ticket_id)
                continue
            self._settle(ticket_id, ticket)

    def _timer_of(self, when: int, ticket_id: str) -> _Ticket | None:
        """The ticket of a queued timer, unless a later step of it superseded the timer or the
        ticket was set aside."""
        ticket = self._tickets.get(ticket_id)
        return ticket if ticket is not None and ticket.wakeup == when else None

    def _give_owed(self, actions: list[Action]) -> None:
        """Give what came due while tickets' timers were held (see :meth:`restore`), less what
        the engine gave since (a late event's replay)."""
        for ticket_id, (_, owed) in self._owed.items():
            ticket = self._tickets.get(ticket_id)
            if ticket is not None:
                emit = self._collector(ticket, actions)
                for item in owed:
                    emit(item)
            if self._journal is not None:
                self._journal.tickets.add(ticket_id)
        self._owed.clear()

    def _schedule_runs(self, until: int) -> list[tuple[int, ScheduleProgram]]:
        """The schedule runs after the engine's last instant (or its first event) up to
        ``until``, in time order."""
        since = self._schedules_since
        if since is None or not self._program.schedules:
            return []
        runs = []
        for schedule in self._program.schedules:
            when = next_run(schedule, since)
            while when <= until:
                runs.append((when, schedule))
                when = next_run(schedule, when)
        runs.sort(key=lambda run: run[0])
        return runs

    @property
    def _schedules_since(self) -> int | None:
        """Schedules run after the instant the engine last advanced to, or before its first
        advance, after its first event."""
        return self._now if self._now is not None else self._first_event_at

    def _measure_all(self, at: int, since: int | None) -> list[TicketClocks]:
        return list(self._measured(self._in_view(at, since), at))

    def _in_view(
        self, at: int, since: int | None, tickets: Iterable[str] | None = None
    ) -> list[str]:
        """The tickets (of ``tickets``, else all) that may have at ``at`` a clock still open or
        one started at or after ``since``: every ticket when ``since`` is ``None``. A look at the
        states as they are, frozen ones included (:meth:`TicketState.in_view`)."""
        chosen = list(self._tickets) if tickets is None else list(tickets)
        if since is None:
            return chosen
        timers_move_clocks = not self._program.settled_without_events
        return [
            ticket_id
            for ticket_id in chosen
            if self._ticket(ticket_id).in_view(at, since, timers_move_clocks)
        ]

    def _measured(self, ticket_ids: Iterable[str], at: int) -> Iterator[TicketClocks]:
        """Each ticket's clocks at ``at``. One the engine fails to measure (a bug) is logged and
        left out: it must not blank a dashboard, a report or a schedule's figures."""
        for ticket_id in ticket_ids:
            self._ticket(ticket_id)  # an unknown one is the caller's KeyError
            try:
                measured = self._state_at(ticket_id, at).measured(at)
            except Exception:
                _logger.exception("the engine failed measuring ticket `%s`", ticket_id)
                continue
            yield measured

    # -- output --------------------------------------------------------------------------------

    def clocks(self, ticket_id: str, now: datetime) -> list[Clock]:
        """Every clock cycle of a ticket with a target in its policy, measured at ``now``."""
        at = to_micros(now, "now")
        state = self._state_at(ticket_id, at)
        return state.clocks(at)

    def measure(
        self,
        now: datetime,
        tickets: Iterable[str] | None = None,
        *,
        since: datetime | None = None,
    ) -> Iterator[TicketClocks]:
        """Every ticket's clocks (or those of ``tickets``) measured at ``now``, with the ticket's
        fields then: what reports (:mod:`slarules.metrics`) and dashboards read. With ``since``,
        the tickets whose clocks are all over and started before it may be left out: a
        dashboard of open clocks and of the day's figures reads the tickets in play, not every
        ticket kept."""
        at = to_micros(now, "now")
        first = None if since is None else to_micros(since, "since")
        yield from self._measured(self._in_view(at, first, tickets), at)

    def explain(self, ticket_id: str, now: datetime) -> Explanation:
        """The transitions that brought each clock of a ticket where it is at ``now``."""
        at = to_micros(now, "now")
        ticket = self._ticket(ticket_id)
        notes: list[Transition] = []
        state = replay(self._program, ticket_id, ticket.history, at, discard, notes.append)
        rows = tuple(
            ExplainedTransition(
                at=from_micros(note.at), subject=note.subject, change=note.change, cause=note.cause
            )
            for note in notes
        )
        return Explanation(ticket=ticket_id, transitions=rows, clocks=tuple(state.clocks(at)))

    def tickets(self) -> list[str]:
        return list(self._tickets)

    def next_wakeup(self) -> datetime | None:
        """The earliest instant at which a clock, trigger or warning can change with no new event:
        call :meth:`advance` then. ``None`` when nothing is pending."""
        timers = self._timers
        # What a restore made up (see `_give_owed`) is due already.
        wakeups = [_due_at(item) for _, owed in self._owed.values() for item in owed]
        while timers:
            when, ticket_id = timers[0]
            if self._timer_of(when, ticket_id) is not None:
                wakeups.append(when)
                break
            heapq.heappop(timers)
        since = self._schedules_since
        if since is not None:
            wakeups += [next_run(schedule, since) for schedule in self._program.schedules]
        return from_micros(min(wakeups)) if wakeups else None

    # -- state ---------------------------------------------------------------------------------

    def snapshot(self) -> EngineState:
        return EngineState(
            now=None if self._now is None else from_micros(self._now),
            tickets=[
                *(self._history_of(ticket_id) for ticket_id in self._tickets),
                *self._set_aside.values(),
            ],
            rejected=list(self.rejected),
            failed=list(self.failed),
            stats=self.stats.model_copy(),
        )

    @classmethod
    def restore(
        cls,
        policies: PolicySet,
        state: EngineState,
        *,
        plugins: Iterable[object] | Plugins = (),
        actions: bool = True,
    ) -> Engine:
        """An engine that carries on from a snapshot: no action already returned comes again."""
        engine = cls(policies, plugins=plugins, actions=actions)
        engine._now = None if state.now is None else to_micros(state.now)
        for saved in state.tickets:
            ticket = engine._tickets[saved.ticket] = _Ticket(saved.ticket)
            saved_records = sorted(Record.of(Event.parse(event)) for event in saved.events)
            first = engine._first_event_at
            earliest = saved_records[0].at
            engine._first_event_at = earliest if first is None else min(first, earliest)
            for record in saved_records:
                ticket.history = add(ticket.history, pack(record))
            ticket.fired = array("Q", saved.fired) if saved.fired else None
            if saved.source is not None:
                engine._sources[saved.ticket] = saved.source
            latest = saved_records[-1].at
            until = max(latest, engine._now or latest)
            try:
                engine._replay_saved(saved, ticket, until)
            except Exception:
                # One ticket the engine cannot replay must not keep every other one from
                # running: it waits, as saved, and its new events are kept as rejected.
                _logger.exception("the engine failed replaying ticket `%s`", saved.ticket)
                del engine._tickets[saved.ticket]
                engine._set_aside[saved.ticket] = saved
                continue
            engine._settle(saved.ticket, ticket)
        engine.rejected = list(state.rejected)
        engine.failed = list(state.failed)
        engine.stats = state.stats.model_copy()
        engine._breaches.clear()  # noticed before the snapshot
        return engine

    def _replay_saved(self, saved: TicketHistory, ticket: _Ticket, until: int) -> None:
        """Replay a restored ticket up to ``until``: what came due was given, but for a ticket
        whose timers were held, whose actions and notices since then are owed."""
        given = self._collector(ticket, [])
        if saved.timers_held_since is None:
            ticket.state = replay(self._program, saved.ticket, ticket.history, until, given)
            return
        held = to_micros(saved.timers_held_since)
        owed: list[Action | Breach] = []

        def emit(item: Action | Breach) -> None:
            if _due_at(item) > held:
                owed.append(item)
            else:
                given(item)

        ticket.state = replay(self._program, saved.ticket, ticket.history, until, emit)
        self._owed[saved.ticket] = (held, owed)

    # -- inside --------------------------------------------------------------------------------

    def _ingest(self, event: Event, source: str | None) -> list[Action]:
        """Take a valid event. Should the engine fail on it (a bug), the ticket is left as it
        was, the event is kept in :attr:`rejected` to retry after a fix, and
        :class:`EventError` is raised: one event never breaks a ticket, nor the engine."""
        ticket = self._tickets.get(event.ticket)
        if ticket is None:
            if event.ticket in self._set_aside:
                self._fail(event, "its ticket is set aside: the engine failed replaying it")
            ticket = self._tickets[event.ticket] = _Ticket(event.ticket)
        elif has_id(ticket.history, event.id.encode()):
            self.stats.duplicates += 1
            return []
        elif event.ticket in self._held:
            self._fail(event, "the engine failed on a timer of its ticket, which waits for a fix")
        history, fired, breaches = ticket.history, len(ticket.fired or ()), len(self._breaches)
        actions: list[Action] = []
        try:
            self._step(event, ticket, actions)
        except Exception as failure:
            self._forget_fired(ticket, fired, breaches, actions, 0)
            self._undo(event.ticket, ticket, history)
            self._fail(event, f"the engine failed on it ({failure_text(failure)})", failure)
        self.stats.events += 1
        if self._journal is not None:
            self._journal.events.append((event, source))
        if source is not None:
            self._sources[event.ticket] = source
        return actions

    def _fail(self, event: Event, why: str, failure: Exception | None = None) -> NoReturn:
        """Keep an event the engine could not take as rejected, log why, raise EventError."""
        error = EventError(
            [("event", f"{why}; kept to retry after a fix")], event.model_dump(mode="json")
        )
        _logger.error("%s", error, exc_info=failure)
        self._reject(error.payload, error)
        raise error from failure

    def _step(self, event: Event, ticket: _Ticket, actions: list[Action]) -> None:
        """Move ``ticket`` by ``event``, in order or by a replay of its history (a late event),
        collecting the actions that became due."""
        record = Record.of(event)
        packed = pack(record)
        emit = self._collector(ticket, actions)
        state, history = ticket.live(self._program), ticket.history
        before = state.wakeup
        in_order = not history or (
            packed > last(history) and (state.last_step is None or record.at >= state.last_step)
        )
        history = ticket.history = add(history, packed)
        if in_order:
            state.run_timers(self._program, record.at, emit, None)
            state.step(self._program, record.at, record, emit)
        else:
            self.stats.replays += 1
            until = max(record.at, state.last_step or record.at)
            ticket.state = replay(self._program, event.ticket, history, until, emit)
        self._settle(event.ticket, ticket, before)
        if self._first_event_at is None or record.at < self._first_event_at:
            self._first_event_at = record.at

    def _catch_up(self, actions: list[Action]) -> list[Action]:
        """After events: the timers that came due by the instant the engine has advanced to
        (the events were late), fired as :meth:`advance` fires them."""
        if self._now is not None:
            self._fire_timers(self._now, actions)
        return actions

    def _forget_fired(
        self, ticket: _Ticket, fired: int, breaches: int, actions: list[Action], given: int
    ) -> None:
        """Forget what a step that failed fired: the keys it recorded (``fired`` were before),
        the breaches it noticed and the actions it added to ``actions`` (``given`` were)."""
        if ticket.fired is not None:
            del ticket.fired[fired:]
        del self._breaches[breaches:]
        self.stats.actions -= len(actions) - given
        del actions[given:]

    def _undo(self, ticket_id: str, ticket: _Ticket, history: bytes) -> None:
        """The ticket as it was before a step that failed: its history, and its state replayed
        from it up to where the engine is."""
        ticket.history = history
        if not history:  # a ticket it would have begun
            del self._tickets[ticket_id]
            if self._journal is not None:
                self._journal.tickets.discard(ticket_id)
            return
        latest = instant_and_id(last(history))[0]
        until = latest if self._now is None else max(latest, self._now)
        try:
            ticket.state = replay(self._program, ticket_id, history, until, discard)
        except Exception:
            self._put_aside(ticket_id)
            return
        self._settle(ticket_id, ticket)

    def _put_aside(self, ticket_id: str) -> None:
        """Set aside a ticket the engine cannot replay as it was (a bug), as a restore sets one
        aside: it is kept whole, for a fixed engine to restore, and its new events are kept as
        rejected; every other ticket runs on."""
        _logger.exception("the engine failed replaying ticket `%s`: set aside", ticket_id)
        self._set_aside[ticket_id] = self._history_of(ticket_id)
        del self._tickets[ticket_id]
        self._resting.pop(ticket_id, None)
        self._held.pop(ticket_id, None)
        if self._journal is not None:
            self._journal.tickets.add(ticket_id)

    def _collector(self, ticket: _Ticket, actions: list[Action]) -> Emit:
        def emit(item: Action | Breach) -> None:
            fingerprint = _fingerprint(item.key)
            if ticket.fired is None:
                ticket.fired = array("Q")
            elif fingerprint in ticket.fired:
                return
            ticket.fired.append(fingerprint)
            if isinstance(item, Breach):
                self._breaches.append(item)
                return
            self.stats.actions += 1
            actions.append(item)

        return emit

    def _notify(self, actions: list[Action]) -> list[Action]:
        """Tell the plugins about breaches and warnings, in the order they came due; the
        actions pass through."""
        breaches, self._breaches = self._breaches, []
        plugins = self.plugins
        notices: list[tuple[int, Breach | Action]] = []
        if plugins.has_listeners("slarules_on_breach"):
            notices += [(breach.at, breach) for breach in breaches]
        if plugins.has_listeners("slarules_on_warning"):
            notices += [
                (to_micros(action.at), action)
                for action in actions
                if action.name == "warn" and action.clock is not None
            ]
        notices.sort(key=lambda notice: notice[0])
        for at, item in notices:
            if isinstance(item, Breach):
                clock = self._clock_at(item.ticket, item.metric, item.cycle, at)
                plugins.notify("slarules_on_breach", clock=clock)
            else:
                assert item.clock is not None
                clock = self._clock_at(item.ticket, item.clock, item.cycle, at)
                plugins.notify("slarules_on_warning", action=item, clock=clock)
        return actions

    def _clock_at(self, ticket: str, metric: str, cycle: int | None, at: int) -> Clock:
        state = self._state_at(ticket, at)
        return next(
            clock for clock in state.clocks(at) if clock.metric == metric and clock.cycle == cycle
        )

    def _adapter_for(self, adapter: str, request: InboundRequest) -> Adapter:
        """The adapter ``adapter``; one installed that cannot start (a setting missing, say)
        keeps the request, to be taken through it from the start once it can."""
        installed = adapter in self.plugins.adapters
        try:
            return self.plugins.adapter(adapter)
        except PluginError as error:
            if installed:
                self._reject_request(adapter, request, "adapter", str(error), ())
            raise

    def _parse(
        self,
        adapter: str,
        parse: Callable[[InboundRequest], list[Event]],
        request: InboundRequest,
    ) -> list[Action]:
        try:
            events = parse(request)
        except PayloadError as error:
            problems = ((error.field, error.reason),)
            self._reject_request(adapter, request, "payload", str(error), problems)
            raise
        except ActionError as error:
            # The helpdesk's API failed while the adapter read more of the ticket: kept, and
            # raised as it is, so that a server can ask the helpdesk to send it again.
            self._reject_request(adapter, request, "payload", failure_text(error), ())
            if error.permanent:
                raise PluginError(f"adapter `{adapter}` failed: {failure_text(error)}") from error
            raise
        except Exception as error:
            self._reject_request(adapter, request, "payload", failure_text(error), ())
            raise PluginError(f"adapter `{adapter}` failed: {failure_text(error)}") from error
        actions: list[Action] = []
        for event in events:
            with contextlib.suppress(EventError):  # the engine failed on it: kept
                actions += self._ingest(event, adapter)
        return self._notify(self._catch_up(actions))

    def deliver(self, action: Action, attempt: int = 1) -> Delivery:
        """Execute one action through its plugin, without keeping a failure: for runners that
        keep their own outbox (:mod:`slarules.runtime`). Never raises."""
        spec = self.plugins.actions.get(action.name)
        if spec is None:
            return self._failed(action, attempt, f"no plugin executes `{action.name}`", None, True)
        try:
            context = self.plugins.context(action.name, self._sources.get(action.ticket), attempt)
            spec.execute(action, context)
        except ActionError as error:
            return self._failed(action, attempt, str(error), error.retry_after, error.permanent)
        except Exception as error:
            return self._failed(action, attempt, failure_text(error), None, False)
        self.stats.delivered += 1
        self.plugins.notify("slarules_on_action_delivered", action=action)
        return Delivery(action=action, attempt=attempt)

    def _failed(
        self,
        action: Action,
        attempt: int,
        error: str,
        retry_after: float | None,
        permanent: bool,
    ) -> Delivery:
        self.stats.failed += 1
        self.plugins.notify(
            "slarules_on_action_failed", action=action, error=error, attempt=attempt
        )
        return Delivery(
            action=action,
            attempt=attempt,
            error=error,
            retry_after=retry_after,
            permanent=permanent,
        )

    def _settle(self, ticket_id: str, ticket: _Ticket, before: int | None = None) -> None:
        """After a ticket moved: queue its next wake-up, unless it is queued already
        (``before``), or let it rest if it has none."""
        if self._journal is not None:
            self._journal.tickets.add(ticket_id)
        wakeup = ticket.wakeup
        if wakeup is None:
            self._rest(ticket_id)
            return
        self._resting.pop(ticket_id, None)
        if wakeup == before:
            return
        timers = self._timers
        heapq.heappush(timers, (wakeup, ticket_id))
        if len(timers) > 2 * len(self._tickets) + 1024:
            # Superseded wake-ups are skipped when popped; drop them before they pile up.
            self._timers = [
                (when, queued)
                for when, queued in timers
                if self._timer_of(when, queued) is not None
            ]
            heapq.heapify(self._timers)

    def _rest(self, ticket_id: str) -> None:
        """Keep a ticket that came to rest thawed until ``_THAWED_AT_REST`` others have come to
        rest after it, then freeze it if it is still at rest. Most tickets at rest take an
        event soon (a reply to the pending question): thawing and freezing each of them took a
        tenth of the engine's time, and the states a thaw makes, long-lived, keep the collector
        busy. The tickets that rest for long still end up frozen."""
        resting = self._resting
        resting.pop(ticket_id, None)
        resting[ticket_id] = None
        if len(resting) > _THAWED_AT_REST:
            oldest = next(iter(resting))
            del resting[oldest]
            if (ticket := self._tickets.get(oldest)) is not None:
                ticket.rest(self._program)

    def _state_at(self, ticket_id: str, at: int) -> TicketState:
        """The ticket's clocks and fields at ``at``: the live state when no step before ``at``
        can move them, else a replay up to ``at`` (the live state is never moved by a query).
        Timers cannot move clocks when clocks start, stop and pause on fields and events only:
        they fire triggers and warnings then, which no clock reads."""
        ticket = self._ticket(ticket_id)
        state = ticket.read(self._program)
        settled = state.last_step is not None and state.last_step <= at
        if settled and (
            state.wakeup is None or state.wakeup > at or self._program.settled_without_events
        ):
            return state
        return replay(self._program, ticket_id, ticket.history, at, discard)

    def _ticket(self, ticket_id: str) -> _Ticket:
        try:
            return self._tickets[ticket_id]
        except KeyError:
            raise KeyError(f"no events for ticket `{ticket_id}`") from None

    def _reject(self, payload: object, error: EventError) -> None:
        self._keep(Rejected(payload=_jsonable(payload), reason=str(error), problems=error.problems))

    def _reject_request(
        self,
        adapter: str,
        request: InboundRequest,
        stage: Stage,
        reason: str,
        problems: tuple[tuple[str, str], ...],
    ) -> None:
        body = request.body
        if stage == "authentication" and len(body) > _UNAUTHENTICATED_KEPT:
            # Never retried, and anyone may send it: enough to see what it was, not a way to
            # fill the disk.
            body = body[:_UNAUTHENTICATED_KEPT]
            reason += f" (the first {_UNAUTHENTICATED_KEPT} bytes of {len(request.body)} kept)"
        self._keep(
            Rejected(
                payload=body.decode("utf-8", "replace"),
                reason=f"{adapter}: {reason}",
                problems=problems,
                stage=stage,
                adapter=adapter,
                headers=dict(request.headers),
                query=dict(request.query),
                received_at=request.received_at,
            )
        )

    def _keep(self, rejected: Rejected) -> None:
        self.stats.rejected += 1
        self.rejected.append(rejected)
        if self._journal is not None:
            self._journal.rejected.append(rejected)
        self.plugins.notify("slarules_on_event_rejected", rejected=rejected)


# Bytes kept of a request that failed authentication.
_UNAUTHENTICATED_KEPT = 4096


def _check_actions(policies: PolicySet, plugins: Plugins) -> None:
    """Policies loaded against other plugins may name actions that this engine lacks."""
    document = policies.document
    used = {call.name for trigger in document.triggers for call in trigger.actions}
    used |= {call.name for schedule in document.schedules for call in schedule.actions}
    missing = sorted(used - set(plugins.actions))
    if missing:
        raise PluginError(
            "the policies use actions that no loaded plugin provides: "
            + ", ".join(f"`{name}`" for name in missing)
        )


def _due_at(item: Action | Breach) -> int:
    return item.at if isinstance(item, Breach) else to_micros(item.at)


def _fingerprint(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest())


def _jsonable(payload: object) -> JsonValue:
    """The payload as JSON can hold it: rejected events must survive a snapshot."""
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    if isinstance(payload, str | int | float | bool) or payload is None:
        return payload
    if isinstance(payload, Mapping):
        return {str(key): _jsonable(value) for key, value in payload.items()}
    if isinstance(payload, list | tuple):
        return [_jsonable(item) for item in payload]
    return repr(payload)


Explanation.model_rebuild()
