"""One ticket's state as a fold over its history: events and timers, in time order.

``TicketState.step`` is the whole SLA logic of one instant: apply the event (if any), select the
policy, move the clocks (start, pause, resume, stop, cancel), fire triggers and warnings on their
rising edges, and compute the next instant at which anything can change without an event. It reads
no clock and does no I/O; the engine decides which steps to run.

With :mod:`slarules._cycle`, :mod:`slarules._history` and :mod:`slarules._fields`, this is the inner
loop that a wheel built with ``HATCH_BUILD_HOOK_ENABLE_MYPYC=true`` compiles (``pyproject.toml``).
"""

from __future__ import annotations

import marshal
import operator
import struct
from collections.abc import Callable, Collection, Iterator
from typing import Any, NamedTuple

from slarules._cycle import Cycle, latest_instant_after, percent
from slarules._fields import merge_fields
from slarules._history import Record, records, unpack
from slarules._instants import MICROSECOND, from_micros
from slarules._program import (
    MetricProgram,
    PolicyProgram,
    Program,
    Reaction,
    Signal,
    Template,
    TriggerProgram,
    warn_amount,
)
from slarules.actions import Action
from slarules.calendar import Calendar
from slarules.clocks import Clock, ClockReading
from slarules.conditions import Condition, Evaluate, ReportQuery, Threshold, TicketView
from slarules.durations import format_duration
from slarules.metrics import TicketClocks

_CONTACT_CHANGES = {
    "contact.offered": "offered",
    "contact.answered": "answered",
    "contact.abandoned": "abandoned",
}


class Transition(NamedTuple):
    """A change the explanation reports: what, when and why."""

    at: int
    subject: str  # "first_response #1", "policy", "trigger `urge`"
    change: str
    cause: str  # "event evt-81 (ticket.updated)" or "time"


class Breach(NamedTuple):
    """A clock went over its target at ``at``: not an action, a notice for the engine's hooks."""

    ticket: str
    metric: str
    cycle: int
    at: int

    @property
    def key(self) -> str:
        return f"{self.ticket}/breach/{self.metric}:{self.cycle}"


Emit = Callable[[Action | Breach], None]
Note = Callable[[Transition], None]


# A ticket state's slots, named once here: its class reads them, and so does a frozen state
# (mypyc compiles no reading of a class's `__slots__`).
_STATE_SLOTS = (
    "cycles",
    "edges",
    "fields",
    "fired_cycles",
    "id",
    "last_step",
    "latest",
    "node_entered",
    "node_handled",
    "node_visits",
    "policy",
    "repeats",
    "responded",
    "start_held",
    "wakeup",
)


class TicketState:
    """Everything derived from one ticket's history; rebuilt from it at will."""

    __slots__ = _STATE_SLOTS

    def __init__(self, ticket: str) -> None:
        self.id = ticket
        self.fields: dict[str, Any] = {}
        self.policy: PolicyProgram | None = None
        self.cycles: list[Cycle] = []  # every cycle, in start order
        self.latest: dict[str, Cycle] = {}  # the current cycle of each metric
        self.responded: int | None = None
        self.node_entered: int | None = None
        self.node_handled = False
        self.node_visits = 0
        self.edges = 0  # bit i: trigger i's condition held at the last step
        self.start_held = 0  # bit i: metric i's start condition held at the last step
        # Per trigger, the last cycle it fired in: cycles only move forward, so this is enough
        # to fire once per cycle.
        self.fired_cycles: dict[int, str] | None = None
        # (trigger, action) -> (when it repeats next, or None for never; occurrence; cycle)
        self.repeats: dict[tuple[int, int], tuple[int | None, int, str]] | None = None
        self.last_step: int | None = None
        self.wakeup: int | None = None

    # -- the step ------------------------------------------------------------------------------

    def step(
        self,
        program: Program,
        at: int,
        record: Record | None,
        emit: Emit,
        note: Note | None = None,
    ) -> None:
        """Move the ticket to instant ``at``, applying ``record`` if the step is an event."""
        step = _Step(self, program, at, record, emit, note)
        signals = step.apply_event() if record is not None else []
        step.select_policy()
        step.move_clocks(signals)
        if program.acts:
            step.fire_triggers()
            step.fire_warnings()
        self.last_step = at
        self.wakeup = step.next_wakeup() if program.needs_timers else None

    def run_timers(self, program: Program, until: int, emit: Emit, note: Note | None) -> None:
        """Every step without an event up to ``until``, each at its exact instant."""
        while self.wakeup is not None and self.wakeup <= until:
            self.step(program, self.wakeup, None, emit, note)

    # -- reading -------------------------------------------------------------------------------

    def current(self, metric: str) -> Cycle | None:
        return self.latest.get(metric)

    @property
    def node(self) -> str | None:
        node = self.fields.get("node")
        return node if isinstance(node, str) and node else None

    @property
    def handler(self) -> str | None:
        """Who acts on the ticket: the node's assignee, else the ticket's (the same field)."""
        assignee = self.fields.get("assignee")
        return None if assignee is None else str(assignee)

    def calendar(self) -> Calendar:
        return self.policy.calendar if self.policy else _ALWAYS

    def target(self, cycle: Cycle) -> int | None:
        if self.policy is None:
            return None
        found = self.policy.target(cycle.metric, cycle.node)
        return None if found is None else found.target

    def clocks(self, at: int) -> list[Clock]:
        """Every cycle that started by ``at`` and has a target in the policy, measured then."""
        policy = self.policy
        if policy is None:
            return []
        name, calendar, responded = policy.name, policy.calendar, self.responded
        return [
            cycle.snapshot(self.id, name, calendar, target, at, responded)
            for cycle, target in self._with_targets(at)
        ]

    def readings(self, at: int) -> list[ClockReading]:
        """What reports count of :meth:`clocks`."""
        policy = self.policy
        if policy is None:
            return []
        name, calendar = policy.name, policy.calendar
        return [
            cycle.reading(self.id, name, calendar, target, at)
            for cycle, target in self._with_targets(at)
        ]

    def _with_targets(self, at: int) -> Iterator[tuple[Cycle, int]]:
        for cycle in self.cycles:
            target = self.target(cycle)
            if target is not None and cycle.started <= at:
                yield cycle, target

    def measured(self, at: int) -> TicketClocks:
        """The ticket's clocks at ``at`` with its fields, as reports and dashboards read them."""
        return TicketClocks(self.id, dict(self.fields), tuple(self.clocks(at)))

    # -- at rest -------------------------------------------------------------------------------

    def in_view(self, at: int, since: int, timers_move_clocks: bool) -> bool:
        """Whether at ``at`` the ticket may have a clock still open or one started at or after
        ``since``. Wrong only the safe way: a ticket whose steps before ``at`` are not all taken
        (a later event, a timer due that may move its clocks) is in."""
        last_step, wakeup = self.last_step, self.wakeup
        behind = (
            last_step is None
            or last_step > at
            or (timers_move_clocks and wakeup is not None and wakeup <= at)
        )
        return behind or any(cycle.active or cycle.started >= since for cycle in self.cycles)

    @property
    def at_rest(self) -> bool:
        """Whether only an event can change the ticket: no timer is pending (its clocks are
        stopped or paused, or run with no target to reach)."""
        return self.wakeup is None

    def freeze(self, program: Program) -> bytes:
        """The whole state in one ``bytes`` object: what a ticket at rest keeps (see the engine).

        A ticket's state is a few dozen objects, over two kilobytes; frozen it takes a third of
        that. Every slot is kept, by name, so that a slot added later is kept too. A short head
        comes first, for :func:`frozen_in_view` to read without thawing."""
        cycles = self.cycles
        head = _FROZEN_HEAD.pack(
            _UNSTEPPED if self.last_step is None else self.last_step,
            max((cycle.started for cycle in cycles), default=_NO_START),
            any(cycle.active for cycle in cycles),
        )
        return head + marshal.dumps(
            (
                _AS_IS_VALUES(self),
                None if self.policy is None else program.policies.index(self.policy),
                tuple(map(Cycle.frozen, cycles)),
                tuple(map(cycles.index, self.latest.values())),
            )
        )

    @classmethod
    def thaw(cls, program: Program, frozen: bytes) -> TicketState:
        """The state that :meth:`freeze` gave, equal in every slot."""
        values, policy, cycles, latest = marshal.loads(memoryview(frozen)[_FROZEN_HEAD.size :])
        state = cls("")  # its id is one of the values
        for name, value in zip(_AS_IS, values, strict=True):
            setattr(state, name, value)
        state.policy = None if policy is None else program.policies[policy]
        state.cycles = thawed = list(map(Cycle.thawed, cycles))
        state.latest = {thawed[i].metric: thawed[i] for i in latest}
        return state


def frozen_in_view(frozen: bytes, at: int, since: int) -> bool:
    """:meth:`TicketState.in_view` of a frozen state, read from its head: a dashboard looks at
    every ticket kept, most of them at rest and long over."""
    last_step, latest_start, active = _FROZEN_HEAD.unpack_from(frozen)
    return bool(last_step > at or active or latest_start >= since)


_ALWAYS = Calendar.always()
# The head of a frozen state: its last step, its latest cycle start, whether a cycle is active.
_FROZEN_HEAD = struct.Struct("<qq?")
_UNSTEPPED = (1 << 63) - 1
_NO_START = -(1 << 63)
# What a frozen state keeps as it is: all but the objects it refers to.
_AS_IS = tuple(name for name in _STATE_SLOTS if name not in ("cycles", "latest", "policy"))
_AS_IS_VALUES = operator.attrgetter(*_AS_IS)


class _Step:
    """One instant of one ticket, with a cache of clock measurements valid for that instant;
    also the view its conditions read (:class:`~slarules.conditions.TicketView`)."""

    __slots__ = (
        "_targeted",
        "at",
        "changed_fields",
        "elapsed_cache",
        "emit",
        "fields",
        "fields_changed",
        "moved",
        "node_handled_moved",
        "note",
        "predicates",
        "program",
        "quiet",
        "record",
        "started_any",
        "ticket",
        "unsettled",
    )

    def __init__(
        self,
        ticket: TicketState,
        program: Program,
        at: int,
        record: Record | None,
        emit: Emit,
        note: Note | None,
    ) -> None:
        self.ticket = ticket
        self.program = program
        self.at = at
        self.record = record
        self.emit = emit
        self.note = note
        # A step with no event cannot change what reads fields only (see Program).
        self.quiet = record is None and program.settled_without_events
        self.fields_changed = record is not None and (
            record.fields is not None or ticket.last_step is None
        )
        self.started_any = False  # whether a cycle started in this step
        # What this step moved, for triggers and warnings: at a step with an event, a condition
        # whose inputs stand still keeps the value it had (see _may_change).
        # A step without an event, a ticket's first step and a change of policy ask them all.
        self.unsettled = record is None or ticket.last_step is None
        self.changed_fields: Collection[str] = (
            record.fields if record is not None and record.fields else ()
        )
        self.moved: set[str] = set()  # metrics whose cycle started, stopped, paused or resumed
        self.node_handled_moved = False
        self.elapsed_cache: dict[int, int] = {}
        self._targeted: list[tuple[Cycle, int]] | None = None
        # While triggers run, clocks stand still: `overdue` and friends are worked out once.
        self.predicates: dict[str, bool] | None = None
        self.fields = ticket.fields  # what conditions read; merged into in place

    # -- events ----------------------------------------------------------------------------

    def apply_event(self) -> list[Signal]:
        ticket, record, at = self.ticket, self.record, self.at
        assert record is not None
        old_node, old_assignee = ticket.node, ticket.fields.get("assignee")
        if record.fields:
            merge_fields(ticket.fields, record.fields)
            if self.program.thresholds_read_fields:
                _forget_wakeups(ticket)
        signals: list[Signal] = []
        kind = record.type
        if kind == "ticket.created":
            signals.append(("created",))
        elif kind == "ticket.updated":
            signals.append(("update",))
        elif kind == "ticket.replied":
            visibility = "public" if record.public else "private"
            signals.append(("reply", record.role, visibility))
            if record.role == "agent" and record.public and ticket.responded is None:
                ticket.responded = at
        else:
            change = _CONTACT_CHANGES[kind]
            signals.append(("contact", change))
            if change == "answered" and ticket.responded is None:
                ticket.responded = at
        signals += self._node_signals(old_node, old_assignee)
        return signals

    def _node_signals(self, old_node: str | None, old_assignee: Any) -> list[Signal]:
        ticket, record = self.ticket, self.record
        assert record is not None
        node = ticket.node
        signals: list[Signal] = []
        if node != old_node:
            if old_node is not None:
                signals.append(("node", "left"))
            if node is not None:
                ticket.node_entered = self.at
                ticket.node_visits += 1
                ticket.node_handled = False
                signals.append(("node", "entered"))
            return signals
        if node is None:
            return signals
        if ticket.fields.get("assignee") != old_assignee:
            ticket.node_handled = False  # a new handler has not acted yet
        elif (
            not ticket.node_handled
            and record.type in ("ticket.replied", "ticket.updated")
            and record.actor is not None
            and record.actor == ticket.handler
        ):
            ticket.node_handled = True
            self.node_handled_moved = True
            signals.append(("node", "handled"))
        return signals

    # -- policy ------------------------------------------------------------------------------

    def select_policy(self) -> None:
        if self.quiet or (self.program.settled_without_events and not self.fields_changed):
            return
        ticket = self.ticket
        chosen = None
        for policy in self.program.policies:
            if policy.applies is None or policy.applies.evaluate(self):
                chosen = policy
                break
        if chosen is not ticket.policy:
            previous = ticket.policy
            ticket.policy = chosen
            _forget_wakeups(ticket)  # other calendar, targets and warnings
            self.unsettled = True
            self.elapsed_cache.clear()
            self._targeted = None
            self._note(
                "policy",
                f"`{chosen.name if chosen else 'none'}` replaces "
                f"`{previous.name if previous else 'none'}`",
            )

    # -- clocks ------------------------------------------------------------------------------

    def move_clocks(self, signals: list[Signal]) -> None:
        if signals:
            self._drain(signals)
        if self.quiet:
            return
        # Conditions on fields alone cannot change while the fields stay as they were: they are
        # asked again only about a cycle that started since they were last asked.
        unchanged = self.program.settled_without_events and not self.fields_changed
        if unchanged and not self.started_any and not self._any_started_lately():
            return  # and no condition can start one: each asks about a cycle started lately
        for index, metric in self.program.timed_metrics:
            if not unchanged or self._started_lately(metric):
                produced = self._on_conditions(index, metric)
                if produced:
                    self._drain(produced)
        if self.started_any or (not unchanged and self._pauses_may_change()):
            self._settle_pauses()

    def _pauses_may_change(self) -> bool:
        """Whether a pause may not hold as it did: pauses on fields alone stand still while the
        policy and the fields they read do (a reply, a transfer, a new priority that keeps
        the policy)."""
        program = self.program
        if self.unsettled or not program.settled_without_events:
            return True
        fields = program.pause_fields
        return "*" in fields or not fields.isdisjoint(self.changed_fields)

    def _any_started_lately(self) -> bool:
        """Whether some cycle started at or after the previous step (cycles are kept in start
        order)."""
        cycles, last = self.ticket.cycles, self.ticket.last_step
        return bool(cycles) and (last is None or cycles[-1].started >= last)

    def _started_lately(self, metric: MetricProgram) -> bool:
        """Whether the metric's cycle is active and started at or after the previous step:
        its stop and cancel conditions may not have been asked about it yet."""
        ticket = self.ticket
        cycle = ticket.latest.get(metric.name)
        last = ticket.last_step
        return cycle is not None and cycle.active and (last is None or cycle.started >= last)

    def _drain(self, signals: list[Signal]) -> None:
        """Apply signals in order, and the starts and stops they cause (``start of X``)."""
        queue = list(signals)
        reactions = self.program.reactions
        for signal in queue:  # grows as reactions produce signals
            for reaction in reactions(signal):
                self._react(reaction, queue)

    def _react(self, reaction: Reaction, produced: list[Signal]) -> None:
        metric = reaction.metric
        cycle = self.ticket.latest.get(metric.name)
        if cycle is not None and cycle.active:
            if reaction.cancels:
                produced.append(self._stop(cycle, cancelled=True))
            elif reaction.stops:
                produced.append(self._stop(cycle, cancelled=False))
            else:
                return
        if reaction.starts and (cycle is None or metric.repeat):
            produced.append(self._start(metric))

    def _on_conditions(self, index: int, metric: MetricProgram) -> list[Signal]:
        ticket = self.ticket
        produced: list[Signal] = []
        cycle = ticket.latest.get(metric.name)
        if cycle is not None and cycle.active:
            self._end_on_conditions(metric, cycle, produced)
        condition = metric.start.condition
        if condition is not None:
            held = condition.evaluate(self)
            was_held = bool(ticket.start_held >> index & 1)
            ticket.start_held = (
                ticket.start_held | 1 << index if held else ticket.start_held & ~(1 << index)
            )
            cycle = ticket.latest.get(metric.name)
            fresh = cycle is None or (metric.repeat and not cycle.active and not was_held)
            if held and fresh:
                produced.append(self._start(metric))
                # Its stop or cancel may hold already: the clock then ends as it starts, as one
                # started by an event does, not at whichever step happens to ask next.
                self._end_on_conditions(metric, ticket.latest[metric.name], produced)
        return produced

    def _end_on_conditions(
        self, metric: MetricProgram, cycle: Cycle, produced: list[Signal]
    ) -> None:
        """Stop or cancel the active ``cycle`` if its metric's condition for that holds."""
        cancel = metric.cancel.condition if metric.cancel is not None else None
        if cancel is not None and cancel.evaluate(self):
            produced.append(self._stop(cycle, cancelled=True))
        elif metric.stop.condition is not None and metric.stop.condition.evaluate(self):
            produced.append(self._stop(cycle, cancelled=False))

    def _start(self, metric: MetricProgram) -> Signal:
        ticket = self.ticket
        previous = ticket.latest.get(metric.name)
        node = ticket.node if metric.name in _NODE_METRICS else None
        number = 1 if previous is None else previous.number + 1
        cycle = ticket.latest[metric.name] = Cycle(metric.name, number, self.at, node)
        ticket.cycles.append(cycle)
        self.started_any = True
        self.moved.add(metric.name)
        self._targeted = None
        self._note(cycle, "started")
        return ("metric", "start", metric.name)

    def _stop(self, cycle: Cycle, cancelled: bool) -> Signal:
        cycle.stop(self.at, cancelled)
        self.moved.add(cycle.metric)
        self.elapsed_cache.pop(id(cycle), None)
        self._note(cycle, "cancelled" if cancelled else "stopped")
        return ("metric", "stop", cycle.metric)

    def _settle_pauses(self) -> None:
        ticket = self.ticket
        policy_pause = ticket.policy is not None and any(
            pause.evaluate(self) for pause in ticket.policy.pauses
        )
        latest = ticket.latest
        for metric in self.program.metrics:
            cycle = latest.get(metric.name)
            if cycle is None or cycle.stopped is not None:
                continue
            paused = policy_pause or (
                bool(metric.pauses) and any(pause.evaluate(self) for pause in metric.pauses)
            )
            if paused and cycle.running:
                cycle.pause(self.at)
                self._note(cycle, "paused")
            elif not paused and cycle.paused:
                cycle.resume(self.at)
                self._note(cycle, "resumed")
            else:
                continue
            self.moved.add(metric.name)
            self.elapsed_cache.pop(id(cycle), None)

    # -- measuring -------------------------------------------------------------------------

    def elapsed(self, cycle: Cycle) -> int:
        key = id(cycle)
        value = self.elapsed_cache.get(key)
        if value is None:
            value = self.elapsed_cache[key] = cycle.elapsed(self.ticket.calendar(), self.at)
        return value

    def targeted(self) -> list[tuple[Cycle, int]]:
        """The current cycle of each metric that the policy gives a target."""
        if self._targeted is None:
            policy = self.ticket.policy
            find = policy.target if policy else _no_target
            self._targeted = [
                (cycle, found.target)
                for metric, cycle in self.ticket.latest.items()
                if (found := find(metric, cycle.node)) is not None
            ]
        return self._targeted

    # -- the view conditions read (TicketView) ----------------------------------------------

    @property
    def ticket_id(self) -> str:
        return self.ticket.id

    def clock(self, metric: str, attribute: str) -> Any:
        cycle = self.ticket.latest.get(metric)
        if cycle is None:
            return False if attribute in _BOOLEAN else None
        policy = self.ticket.policy
        found = policy.target(metric, cycle.node) if policy else None
        return _clock_attribute(self, cycle, found.target if found else None, attribute)

    def node(self, attribute: str) -> Any:
        ticket = self.ticket
        node = ticket.node
        if attribute == "name":
            return node
        if attribute == "assignee":
            return ticket.handler if node else None
        if attribute == "unhandled":
            return node is not None and not ticket.node_handled
        if attribute == "entered_at":
            return ticket.node_entered if node else None
        clocks = [
            (cycle, target)
            for cycle, target in self.targeted()
            if node is not None
            and cycle.node == node
            and cycle.started >= (ticket.node_entered or 0)
        ]
        return _predicate(self, clocks, attribute)

    def predicate(self, name: str) -> bool:
        known = self.predicates
        if known is None:
            return _predicate(self, self.targeted(), name)
        value = known.get(name)
        if value is None:
            value = known[name] = _predicate(self, self.targeted(), name)
        return value

    def report(self, query: ReportQuery) -> Any:
        raise AssertionError(f"`{query.function}` in a ticket condition passed validation")

    # -- triggers ----------------------------------------------------------------------------

    def fire_triggers(self) -> None:
        ticket = self.ticket
        self.predicates = {}
        for index, trigger in enumerate(self.program.triggers):
            if not self._may_change(trigger.condition):
                continue
            held = trigger.condition.evaluate(self)
            was_held = bool(ticket.edges >> index & 1)
            if held and not was_held:
                ticket.edges |= 1 << index
                self._rising_edge(index, trigger)
            elif held:
                self._repeat(index, trigger)
            elif was_held:
                ticket.edges &= ~(1 << index)
                if ticket.repeats:
                    for key in [k for k in ticket.repeats if k[0] == index]:
                        del ticket.repeats[key]
        self.predicates = None

    def _may_change(self, condition: Condition) -> bool:
        """Whether the condition may not hold as it did at the last step. Time moves a condition
        only at the instants its timers are set for (see :meth:`next_wakeup`), each a step with
        no event that asks every condition; a step with an event changes only what the event
        moved: fields, the node's handling, cycles, or the policy (which unsettles all)."""
        if self.unsettled:
            return True
        changed = self.changed_fields
        if changed and ("*" in condition.fields or not condition.fields.isdisjoint(changed)):
            return True
        moved = self.moved
        if condition.node and (
            moved or self.node_handled_moved or not _NODE_FIELDS.isdisjoint(changed)
        ):
            return True
        return bool(moved) and ("*" in condition.metrics or not condition.metrics.isdisjoint(moved))

    def _rising_edge(self, index: int, trigger: TriggerProgram) -> None:
        ticket = self.ticket
        cycle = self._trigger_cycle(trigger)
        if ticket.fired_cycles is None:
            ticket.fired_cycles = {}
        elif ticket.fired_cycles.get(index) == cycle:
            return  # once per cycle: the condition fell and rose again within it
        ticket.fired_cycles[index] = cycle
        self._note(f"trigger `{trigger.name}`", f"`{trigger.text}` became true")
        for position, action in enumerate(trigger.actions):
            self._emit_action(trigger, position, cycle, 0)
            if action.every is not None:
                if ticket.repeats is None:
                    ticket.repeats = {}
                ticket.repeats[index, position] = (self._after(action.every), 1, cycle)

    def _repeat(self, index: int, trigger: TriggerProgram) -> None:
        repeats = self.ticket.repeats
        if not repeats:
            return
        for position, action in enumerate(trigger.actions):
            due = repeats.get((index, position))
            if due is None or due[0] is None or due[0] > self.at:
                continue
            _, occurrence, cycle = due
            self._emit_action(trigger, position, cycle, occurrence)
            assert action.every is not None
            repeats[index, position] = (self._after(action.every), occurrence + 1, cycle)

    def _after(self, every: int) -> int | None:
        """When a repeat comes due: ``every`` is business time, so nobody is urged at night.
        ``None`` when the calendar never opens again."""
        return latest_instant_after(self.ticket.calendar(), self.at, every)

    def _trigger_cycle(self, trigger: TriggerProgram) -> str:
        """Which cycle of its clocks a trigger fires in: ``resolution:1``, ``node:2``, …

        A trigger on any clock (``breached``, ``overdue``) fires in the cycle of the clock it is
        about. Not in a count of the ticket's cycles: a late event that starts a cycle earlier
        in the history (a requester's reply starting ``next_response``) would renumber a
        firing already returned, and return it again under a new key."""
        ticket = self.ticket
        parts = []
        for metric in trigger.clocks:
            if metric == "*":
                cause = self._any_clock_cause(trigger)
                parts.append(f"{cause.metric}:{cause.number}" if cause else "no-clock")
            else:
                cycle = ticket.current(metric)
                parts.append(f"{metric}:{cycle.number if cycle else 0}")
        if trigger.condition.node:
            parts.append(f"node:{ticket.node_visits}")
        return ",".join(parts) or "ticket"

    def _emit_action(
        self, trigger: TriggerProgram, position: int, cycle: str, occurrence: int
    ) -> None:
        action = trigger.actions[position]
        args = tuple(self._argument(argument) for argument in action.arguments)
        if not args:
            args = (self.ticket.handler,)
        clock = self._cause_clock(trigger)
        again = ""
        if occurrence and action.every is not None:
            every = format_duration(action.every * MICROSECOND)
            again = f" (repeat {occurrence}, every {every})"
        self.emit(
            Action(
                name=action.name,
                args=args,
                ticket=self.ticket.id,
                trigger=trigger.name,
                clock=clock.metric if clock else None,
                cycle=clock.number if clock else None,
                at=from_micros(self.at),
                reason=f"`{trigger.text}` holds"
                + again
                + (f"; {self._describe(clock)}" if clock else ""),
                key=f"{self.ticket.id}/{trigger.name}/{cycle}/{position}/{occurrence}",
            )
        )

    def _cause_clock(self, trigger: TriggerProgram) -> Cycle | None:
        """The clock a trigger is about: the one it names, else the one most over its target."""
        for metric in trigger.clocks:
            if metric == "*":
                continue
            cycle = self.ticket.current(metric)
            if cycle is not None:
                return cycle
        return self._any_clock_cause(trigger)

    def _any_clock_cause(self, trigger: TriggerProgram) -> Cycle | None:
        """The clock a condition on any clock is about: the node's, for a condition on the
        node, else the one most over its target."""
        if trigger.condition.node:
            node_cycles = [c for c, _ in self.targeted() if c.node is not None and c.active]
            if node_cycles:
                return node_cycles[0]
        worst = max(
            self.targeted(),
            key=lambda pair: self.elapsed(pair[0]) - pair[1],
            default=None,
        )
        return worst[0] if worst else None

    def _describe(self, cycle: Cycle) -> str:
        target = self.ticket.target(cycle)
        name = _subject(cycle)
        if target is None:
            return f"{name} has no target in this policy"
        elapsed = self.elapsed(cycle)
        remaining = target - elapsed
        used = f"{percent(elapsed, target):g}% of {format_duration(target * MICROSECOND)} used"
        if remaining <= -_SECOND:
            return f"{name} {format_duration(-remaining * MICROSECOND)} over target, {used}"
        if remaining < 0:
            return f"{name} just went past its target, {used}"
        return f"{name} {format_duration(remaining * MICROSECOND)} left, {used}"

    def _argument(self, argument: Evaluate | Template) -> str | None:
        return action_argument(argument, self)

    # -- warnings ----------------------------------------------------------------------------

    def fire_warnings(self) -> None:
        """Warnings at their percentages, then the notice of a breach."""
        policy = self.ticket.policy
        # A warning or a breach comes when the elapsed time passes an amount, at a step without
        # an event (a timer) unless the policy, and so the amounts, changed.
        if policy is None or not self.unsettled:
            return
        for cycle, target in self.targeted():
            if not cycle.active:
                continue
            found = policy.target(cycle.metric, cycle.node)
            assert found is not None
            elapsed = self.elapsed(cycle)
            for warn in found.warn_at:
                if elapsed > warn_amount(target, warn) and warn > cycle.warned:
                    self._warn(cycle, warn)
            if elapsed > target and not cycle.breach_noticed:
                cycle.notice_breach()
                self.emit(Breach(self.ticket.id, cycle.metric, cycle.number, self.at))

    def _warn(self, cycle: Cycle, warn: float) -> None:
        ticket = self.ticket
        cycle.warned = warn
        self._note(cycle, f"{warn:g}% used")
        self.emit(
            Action(
                name="warn",
                args=(ticket.handler,),
                ticket=ticket.id,
                trigger=f"warn at {warn:g}%",
                clock=cycle.metric,
                cycle=cycle.number,
                at=from_micros(self.at),
                reason=f"{warn:g}% of the target used; {self._describe(cycle)}",
                key=f"{ticket.id}/warn/{cycle.metric}:{cycle.number}/{warn:g}/0",
            )
        )

    # -- timers ------------------------------------------------------------------------------

    def next_wakeup(self) -> int | None:
        """The earliest instant after this step at which a condition, a warning, a breach or a
        repeat can change with no new event."""
        at = self.at
        earliest = None
        repeats = self.ticket.repeats
        if repeats:
            dues = (due for due, _, _ in repeats.values() if due is not None and due > at)
            earliest = min(dues, default=None)
        for cycle, target in self.targeted():
            if not cycle.running:
                continue
            wake = cycle.wake
            if wake is None or wake <= at:
                wake = cycle.wake = self._cycle_wakeup(cycle, target)
            if wake != _NEVER and wake > at and (earliest is None or wake < earliest):
                earliest = wake
        return earliest

    def _cycle_wakeup(self, cycle: Cycle, target: int) -> int:
        """The first instant at which the running cycle's elapsed time passes the next amount
        that matters (or ``_NEVER``). It holds until the cycle pauses, resumes or stops, the
        policy changes, or, for thresholds read from fields, the fields change: until then the
        elapsed time grows towards that amount and no other."""
        elapsed = self.elapsed(cycle)
        amounts = [a for a in self._amounts(cycle, target) if a >= elapsed]
        if not amounts:
            return _NEVER
        instant = cycle.first_instant_over(self.ticket.calendar(), min(amounts))
        return _NEVER if instant is None else instant

    def _amounts(self, cycle: Cycle, target: int) -> Iterator[int]:
        """Elapsed times past which something about this clock changes."""
        yield target
        policy = self.ticket.policy
        assert policy is not None
        found = policy.target(cycle.metric, cycle.node)
        if found is not None:
            for warn in found.warn_at:
                yield warn_amount(target, warn)
        for threshold in self.program.thresholds.get(cycle.metric, ()):
            value = threshold.value(self)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            yield from _elapsed_amounts(threshold, value, target)

    def _note(self, subject: Cycle | str, change: str) -> None:
        # Only explanations take notes: a cycle is named only then.
        if self.note is not None:
            name = _subject(subject) if isinstance(subject, Cycle) else subject
            record = self.record
            cause = f"event {record.id} ({record.type})" if record else "time"
            self.note(Transition(self.at, name, change, cause))


_NODE_METRICS = frozenset({"node_response", "node_handling"})
_NODE_FIELDS = frozenset({"node", "assignee"})  # what the node's attributes read
_SECOND = 1_000_000
_NEVER = 1 << 63  # a cycle's wake-up when no amount is left ahead of it


def _elapsed_amounts(threshold: Threshold, value: int | float, target: int) -> Iterator[int]:
    """The elapsed times past which ``attribute <operator> value`` can change: one for an
    ordering of whole microseconds (``elapsed > v`` turns true past ``v``, ``elapsed >= v`` past
    ``v - 1``), both for ``==`` and ``!=``, and the neighbours of the crossing for percents,
    which are fractions and may round either way. (``int | float``, not ``float``: compiled,
    a ``float`` is a machine double, and a whole number would lose its exactness.)"""
    if threshold.attribute == "elapsed":
        exact: int | float = value
    elif threshold.attribute == "remaining":
        exact = target - value
    else:  # percent
        exact = target * float(value) / 100
    if isinstance(exact, int) and threshold.attribute != "percent":
        if threshold.operator in (">", "<="):
            yield exact
        elif threshold.operator in (">=", "<"):
            yield exact - 1
        else:
            yield from (exact - 1, exact)
        return
    floor = int(exact // 1)
    yield from (floor - 1, floor, floor + 1)


def _no_target(metric: str, node: str | None) -> None:
    """Where no policy applies, no metric has a target."""


def _forget_wakeups(ticket: TicketState) -> None:
    for cycle in ticket.latest.values():
        cycle.wake = None


def _subject(cycle: Cycle) -> str:
    node = f" in `{cycle.node}`" if cycle.node else ""
    return f"{cycle.metric} #{cycle.number}{node}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def action_argument(argument: Evaluate | Template, view: TicketView) -> str | None:
    """An action's argument as text: a value read, or a message with its placeholders filled."""
    if isinstance(argument, Template):
        return argument.render(view)
    return _text(argument(view))


_BOOLEAN = frozenset({"overdue", "breached", "paused", "met", "running"})


def _predicate(step: _Step, clocks: list[tuple[Cycle, int]], name: str) -> bool:
    if name == "met":
        return bool(clocks) and all(
            _clock_attribute(step, cycle, target, "met") for cycle, target in clocks
        )
    return any(_clock_attribute(step, cycle, target, name) for cycle, target in clocks)


def _clock_attribute(step: _Step, cycle: Cycle, target: int | None, attribute: str) -> Any:
    if attribute == "cycle":
        return cycle.number
    if attribute == "started_at":
        return cycle.started
    if attribute == "running":
        return cycle.running
    if attribute == "paused":
        return cycle.paused
    if target is None:
        return False if attribute in _BOOLEAN else None
    elapsed = step.elapsed(cycle)
    if attribute == "elapsed":
        return elapsed
    if attribute == "remaining":
        return target - elapsed
    if attribute == "target":
        return target
    if attribute == "percent":
        return 100 * elapsed / target if target else 0.0
    if attribute == "overdue":
        return cycle.active and elapsed > target
    if attribute == "breached":
        return elapsed > target
    if attribute == "met":
        return cycle.stopped is not None and not cycle.cancelled and elapsed <= target
    if attribute == "state":
        return cycle.state(elapsed > target).value
    calendar = step.ticket.calendar()
    if attribute == "due_at":
        return None if cycle.paused else cycle.due(calendar, target)
    if attribute == "breached_at":
        return cycle.crossing(calendar, target) if elapsed > target else None
    raise AssertionError(f"unknown clock attribute {attribute}")  # pragma: no cover


def discard(item: Action | Breach) -> None:
    """An ``Emit`` for replays whose actions were given before, or are not wanted."""


def replay(
    program: Program,
    ticket: str,
    history: bytes,
    until: int,
    emit: Emit,
    note: Note | None = None,
) -> TicketState:
    """The state of a ticket from scratch: every event and timer up to ``until``, in order."""
    state = TicketState(ticket)
    for packed in records(history):
        record = unpack(packed)
        if record.at > until:
            break
        state.run_timers(program, record.at, emit, note)
        state.step(program, record.at, record, emit, note)
    state.run_timers(program, until, emit, note)
    return state
