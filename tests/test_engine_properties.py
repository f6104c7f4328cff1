"""Properties of the engine over random ticket histories, across a DST change in Berlin, with
the policies below and, for several properties, random valid policy files (``random_policies``).

* Ingesting events one by one in any arrival order, with the host's clock moving in between,
  ends with the same clocks as a replay of the events sorted by time.
* No action key is returned twice, and every action of the sorted replay is returned by the
  out-of-order run too (late events can add actions, never lose them).
* ``next_wakeup()`` is never later than the first instant at which ``advance`` returns an action.
* Clocks measured ahead of the timers (no ``advance``) equal those measured after them.
* The green part of a clock's bar is the time it ran before the first response, whenever the
  response came: before the clock, while it ran or paused, after it stopped, or not yet.
* What reports read of a clock (``Cycle.reading``) is what its snapshot says.
* An engine without actions (for reports) has the same clocks as one with them, also where a
  clock stops on another clock's elapsed time.
* Measuring since an instant leaves out only tickets whose clocks are all over and older.
* A ticket state frozen and thawed at every step (as the engine keeps tickets at rest) equals
  the state never frozen, slot by slot, and goes on to the same actions and clocks.
* A replay ticket by ticket (for reports) measures the engine's clocks and fields at any instant,
  whatever order the events came in, repeated ones left out.
* Triggers asked at a step with an event only when the event moved what they read give the
  actions, clocks and explanations of triggers asked at every step.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

from engine_helpers import (
    Events,
    freezing_tickets_at_rest,
    skip_where_the_core_is_compiled,
    step_through_wakeups,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from random_policies import policy_files

from slarules import Action, ClockState, Engine, Event, parse_policies
from slarules._cycle import _SLOTS, Cycle
from slarules._history import Record
from slarules._instants import MICROSECOND, to_micros
from slarules._program import compile_program
from slarules._ticket import _STATE_SLOTS, TicketState, _Step, discard, replay
from slarules.calendar import Calendar
from slarules.clocks import Clock, ClockReading
from slarules.replays import Replay

POLICIES = """
calendar office {
    timezone "Europe/Berlin"
    hours mon-fri 08:00-12:00, 13:00-18:00
    hours sat 10:00-14:00
    holiday 2026-03-31
}
policy "Urgent" {
    applies when priority == "urgent"
    calendar always
    first_response within 1h warn at 50%
    resolution within 8h warn at 75%
    node "L2" response within 20m, handling within 2h
    pause while status == "pending"
}
policy "Normal" {
    applies when true
    calendar office
    first_response within 4h
    next_response within 2h
    service within 20h
    resolution within 1d warn at 80%
    node "L1" response within 30m, handling within 3h
    node "L2" response within 1h, handling within 6h
    pause while status in ["pending", "hold"]
}
trigger "urge" {
    when overdue and node.unhandled
    then notify node.assignee, urge node.assignee every 45m
}
trigger "soon" when resolution.remaining < 90m and not resolution.paused then notify
trigger "half" when first_response.percent >= 50% then tag "half-used"
trigger "escalate" when resolution.breached and priority == "urgent" then escalate "lead"
trigger "long" when service.elapsed >= 3h then notify
trigger "waiting" when 30m >= next_response.remaining then notify
trigger "exactly" when first_response.elapsed == 20m or resolution.remaining <= 2h then notify
"""

START = datetime(2026, 3, 27, 7, 0, tzinfo=UTC)  # the Friday before the clocks go forward
END = START + timedelta(days=6)
AGENTS = ["al", "bo", "cy"]


@st.composite
def ticket_history(draw: st.DrawFn, ticket: str) -> list[tuple[int, str, dict[str, Any]]]:
    """(minutes after START, kind, details) for one ticket, created first."""
    created = draw(st.integers(0, 3 * 24 * 60))
    steps: list[tuple[int, str, dict[str, Any]]] = [
        (
            created,
            "created",
            {
                "priority": draw(st.sampled_from(["normal", "urgent"])),
                "status": "open",
                "node": draw(st.sampled_from(["L1", "L2"])),
                "assignee": draw(st.sampled_from(AGENTS)),
            },
        )
    ]
    offsets = draw(st.lists(st.integers(0, 2 * 24 * 60), max_size=7))
    for offset in sorted(offsets):
        kind = draw(
            st.sampled_from(["status", "priority", "node", "assignee", "agent", "requester"])
        )
        details: dict[str, Any] = {}
        if kind == "status":
            details["status"] = draw(st.sampled_from(["open", "pending", "hold", "solved"]))
        elif kind == "priority":
            details["priority"] = draw(st.sampled_from(["normal", "urgent"]))
        elif kind == "node":
            details["node"] = draw(st.sampled_from(["L1", "L2"]))
            details["assignee"] = draw(st.sampled_from(AGENTS))
        elif kind == "assignee":  # handed over within the node
            details["assignee"] = draw(st.sampled_from(AGENTS))
        elif kind == "agent":
            details["by"] = draw(st.sampled_from(AGENTS))
            details["public"] = draw(st.booleans())
        steps.append((created + offset, kind, details))
    return steps


def _events(histories: list[list[tuple[int, str, dict[str, Any]]]]) -> list[dict[str, Any]]:
    make = Events()
    events = []
    for number, history in enumerate(histories):
        ticket = f"T-{number}"
        for minutes, kind, details in history:
            at = START + timedelta(minutes=minutes)
            if kind == "created":
                events.append(make.created(ticket, at, **details))
            elif kind == "agent":
                events.append(
                    make.agent_reply(ticket, at, by=details["by"], public=details["public"])
                )
            elif kind == "requester":
                events.append(make.requester_reply(ticket, at))
            else:
                by = details.pop("by", None)
                events.append(make.updated(ticket, at, by=by, **details))
    return events


histories = st.lists(
    st.integers(0, 10**6).flatmap(lambda n: ticket_history(f"T{n}")), min_size=1, max_size=3
)


def _ingest_as_the_host_clock_moves(
    engine: Engine, events: list[dict[str, Any]], host_clock: list[datetime]
) -> list[Action]:
    """The actions of ingesting the events, the host's clock moving on after each of the first
    ones, then to END."""
    returned: list[Action] = []
    for position, event in enumerate(events):
        returned += engine.ingest(event)
        if position < len(host_clock):
            returned += engine.advance(host_clock[position])
    return returned + engine.advance(END)


def _time_order(event: dict[str, Any]) -> tuple[str, int, str]:
    rank = 0 if event["type"] == "ticket.created" else 2 if "updated" in event["type"] else 3
    return (event["at"], rank, event["id"])


@settings(max_examples=60, deadline=None)
@given(histories, st.randoms(use_true_random=False), st.lists(st.integers(0, 6 * 24 * 60)))
def test_any_arrival_order_ends_like_a_sorted_replay(
    history: list[Any], random: Any, host_minutes: list[int]
) -> None:
    events = _events(history)
    arrival = list(events)
    random.shuffle(arrival)
    host_clock = sorted(START + timedelta(minutes=m) for m in host_minutes)

    # One engine freezes tickets as they come to rest, the other keeps them thawed.
    incremental = Engine.from_text(POLICIES)
    with freezing_tickets_at_rest():
        returned = _ingest_as_the_host_clock_moves(incremental, arrival, host_clock)

    replayed = Engine.from_text(POLICIES)
    in_order = replayed.ingest_many(sorted(events, key=_time_order))
    in_order += replayed.advance(END)

    for ticket in replayed.tickets():
        assert incremental.clocks(ticket, END) == replayed.clocks(ticket, END)
    keys = [action.key for action in returned]
    assert len(keys) == len(set(keys))
    assert {action.key for action in in_order} <= set(keys)


@settings(max_examples=60, deadline=None)
@given(histories)
def test_next_wakeup_is_never_later_than_the_next_action(history: list[Any]) -> None:
    engine = Engine.from_text(POLICIES)
    engine.ingest_many(sorted(_events(history), key=_time_order))
    step_through_wakeups(engine, END)


@settings(max_examples=60, deadline=None)
@given(histories, st.integers(0, 6 * 24 * 60))
def test_clocks_measured_ahead_of_the_timers_equal_those_after_them(
    history: list[Any], minutes: int
) -> None:
    at = START + timedelta(minutes=minutes)
    events = [e for e in sorted(_events(history), key=_time_order) if e["at"] <= at.isoformat()]
    ahead, advanced = Engine.from_text(POLICIES), Engine.from_text(POLICIES)
    ahead.ingest_many(events)
    advanced.ingest_many(events)
    advanced.advance(at)
    for ticket in advanced.tickets():
        assert ahead.clocks(ticket, at) == advanced.clocks(ticket, at)


@st.composite
def cycles(draw: st.DrawFn) -> Cycle:
    """A cycle started, paused and resumed at random instants, stopped or still going."""
    started = to_micros(START) + draw(st.integers(0, 3 * 86_400)) * 1_000_000
    cycle = Cycle("resolution", 1, started, None)
    at = started
    for gap in draw(st.lists(st.integers(1, 86_400), max_size=6)):
        at += gap * 1_000_000
        if cycle.running:
            cycle.pause(at)
        else:
            cycle.resume(at)
    if draw(st.booleans()):
        cycle.stop(at + draw(st.integers(0, 86_400)) * 1_000_000)
    return cycle


@given(
    cycles(),
    st.sampled_from(["always", "office"]),
    st.integers(0, 7 * 86_400),
    st.one_of(st.none(), st.integers(-86_400, 7 * 86_400)),
    st.integers(1, 2 * 86_400),
)
def test_the_green_of_a_bar_is_the_time_the_clock_ran_before_the_first_response(
    cycle: Cycle, calendar_name: str, now_after: int, responded_after: int | None, target: int
) -> None:
    calendar = compile_program(parse_policies(POLICIES)).policies[-1].calendar
    if calendar_name == "always":
        calendar = Calendar.always()
    now = cycle.started + now_after * 1_000_000
    responded = None if responded_after is None else cycle.started + responded_after * 1_000_000
    clock = cycle.snapshot("T-1", "P", calendar, target * 1_000_000, now, responded)
    elapsed = cycle.elapsed(calendar, now)
    before = elapsed if responded is None else cycle.elapsed(calendar, responded)
    within = min(elapsed, target * 1_000_000)
    assert clock.progress.response // MICROSECOND == min(before, within)
    assert clock.progress.response + clock.progress.handling + clock.progress.overtime == (
        clock.elapsed
    )


@given(
    cycles(),
    st.sampled_from(["always", "office"]),
    st.integers(0, 7 * 86_400),
    st.integers(1, 2 * 86_400),
)
def test_what_reports_read_of_a_clock_is_its_snapshot(
    cycle: Cycle, calendar_name: str, now_after: int, target: int
) -> None:
    calendar = compile_program(parse_policies(POLICIES)).policies[-1].calendar
    if calendar_name == "always":
        calendar = Calendar.always()
    now, target = cycle.started + now_after * 1_000_000, target * 1_000_000
    reading = cycle.reading("T-1", "P", calendar, target, now)
    clock = cycle.snapshot("T-1", "P", calendar, target, now, None)
    assert reading._asdict() == clock.model_dump(include=set(ClockReading._fields))
    assert reading.breached == clock.breached


@settings(max_examples=60, deadline=None)
@given(histories, st.integers(0, 6 * 24 * 60))
def test_conditions_read_every_clock_attribute_as_the_clock_shows_it(
    history: list[Any], minutes: int
) -> None:
    at = to_micros(START + timedelta(minutes=minutes))
    replayed = Replay(parse_policies(POLICIES))
    replayed.add_many(_events(history))
    program = compile_program(replayed.policies)
    for ticket, packed in replayed._histories.items():
        state = replay(program, ticket, packed, at, discard)
        view = _Step(state, program, at, None, discard, None)
        for clock in state.clocks(at):
            if state.latest[clock.metric].number == clock.cycle:  # what conditions read
                _assert_read_as_shown(view, clock)


def _assert_read_as_shown(view: _Step, clock: Clock) -> None:
    def read(attribute: str) -> Any:
        return view.clock(clock.metric, attribute)

    def micros(instant: datetime | None) -> int | None:
        return None if instant is None else to_micros(instant)

    assert read("elapsed") == clock.elapsed // MICROSECOND
    assert read("remaining") == clock.remaining // MICROSECOND
    assert read("target") == clock.target // MICROSECOND
    assert round(read("percent"), 2) == clock.percent  # shown to two decimals
    assert read("started_at") == micros(clock.started_at)
    assert read("due_at") == micros(clock.due_at)
    assert read("breached_at") == micros(clock.breached_at)
    assert (read("state"), read("cycle")) == (clock.state.value, clock.cycle)
    assert read("breached") == clock.breached
    assert read("met") == (clock.state is ClockState.MET)
    assert read("paused") == (clock.state is ClockState.PAUSED)
    assert read("running") == (clock.state in (ClockState.RUNNING, ClockState.BREACHED_RUNNING))
    assert read("overdue") == (clock.breached and clock.stopped_at is None)


# A clock that stops on another's breach moves with no event: timers are kept for it.
TIMED_STOP = """
metric triage { start on created  stop when first_response.breached or status == "solved" }
policy "Urgent triage" {
    applies when priority == "urgent"
    first_response within 2h
    triage within 1d
}
"""


# The policies above, and random valid policy files of every kind.
any_policies = st.sampled_from([POLICIES, TIMED_STOP + POLICIES]) | policy_files()


@settings(max_examples=60, deadline=None)
@given(histories, any_policies)
def test_an_engine_without_actions_has_the_same_clocks(history: list[Any], policies: str) -> None:
    events = sorted(_events(history), key=_time_order)
    full, clocks_only = Engine.from_text(policies), Engine.from_text(policies, actions=False)
    full.ingest_many(events)
    assert clocks_only.ingest_many(events) == []
    assert clocks_only.advance(END) == []
    for ticket in full.tickets():
        assert clocks_only.clocks(ticket, END) == full.clocks(ticket, END)


@settings(max_examples=60, deadline=None)
@given(
    histories,
    any_policies,
    st.randoms(use_true_random=False),
    st.integers(0, 6 * 24 * 60),
)
def test_a_replay_ticket_by_ticket_measures_the_clocks_of_the_engine(
    history: list[Any], policies: str, random: Any, minutes: int
) -> None:
    at = START + timedelta(minutes=minutes)
    events = _events(history)
    engine = Engine.from_text(policies)
    engine.ingest_many(sorted(events, key=_time_order))
    arrival = events + random.sample(events, k=min(2, len(events)))  # and two repeated
    random.shuffle(arrival)
    replayed = Replay(parse_policies(policies))
    assert replayed.add_many(arrival) == []
    assert (replayed.events, replayed.duplicates) == (len(events), len(arrival) - len(events))
    by_ticket = {measured.ticket: measured for measured in engine.measure(at)}
    assert {measured.ticket: measured for measured in replayed.measure(at)} == by_ticket


@settings(max_examples=60, deadline=None)
@given(
    histories,
    any_policies,
    st.integers(0, 6 * 24 * 60),
    st.integers(0, 6 * 24 * 60),
    st.integers(0, 3 * 24 * 60),
)
def test_measuring_since_keeps_every_ticket_with_a_clock_open_or_started_since(
    history: list[Any], policies: str, host_minutes: int, minutes: int, back: int
) -> None:
    engine = Engine.from_text(policies)
    with freezing_tickets_at_rest():  # a dashboard reads most tickets at rest in their heads
        engine.ingest_many(sorted(_events(history), key=_time_order))
        engine.advance(START + timedelta(minutes=host_minutes))  # timers taken or not, up to here
    now = START + timedelta(minutes=minutes)
    since = now - timedelta(minutes=back)
    everything = {measured.ticket: measured for measured in engine.measure(now)}
    in_view = {measured.ticket: measured for measured in engine.measure(now, since=since)}
    assert all(measured == everything[ticket] for ticket, measured in in_view.items())
    for ticket, measured in everything.items():
        if any(clock.stopped_at is None or clock.started_at >= since for clock in measured.clocks):
            assert ticket in in_view


@settings(max_examples=60, deadline=None)
@given(histories, any_policies)
def test_a_state_frozen_and_thawed_at_every_step_goes_on_like_one_never_frozen(
    history: list[Any], policies: str
) -> None:
    program = compile_program(parse_policies(policies))
    end = to_micros(END)
    for ticket, records in _records_by_ticket(_events(history)).items():
        steady, thawed = TicketState(ticket), TicketState(ticket)
        given_steady: list[Any] = []
        given_thawed: list[Any] = []
        for record in records:
            for state, emitted in ((steady, given_steady), (thawed, given_thawed)):
                state.run_timers(program, record.at, emitted.append, None)
                state.step(program, record.at, record, emitted.append)
            thawed = TicketState.thaw(program, thawed.freeze(program))
            assert _slots(thawed) == _slots(steady)
        steady.run_timers(program, end, given_steady.append, None)
        thawed.run_timers(program, end, given_thawed.append, None)
        assert given_thawed == given_steady
        assert thawed.clocks(end) == steady.clocks(end)


# Triggers on fields alone, on the node's attributes, on clocks' ends and on the node's clocks,
# besides those above, and a metric that starts, stops and pauses on fields.
FIELD_AND_NODE_TRIGGERS = """
metric urgent_time {
    start when priority == "urgent"
    stop when priority == "normal" or status == "solved"
    pause while status == "hold"
}
trigger "urgent time runs" when urgent_time.running and not urgent_time.paused then tag "urgent"
trigger "urgent waits" when status == "pending" and priority == "urgent" then tag "urgent-waits"
trigger "bo handled it" when node.assignee == "bo" and not node.unhandled then notify "lead"
trigger "answered" when first_response.met then tag "answered"
trigger "node late" when node.overdue or node.breached then notify
trigger "node paused" when node.paused then tag "node-paused"
trigger "any paused" when paused then tag "paused"
trigger "all met" when met then tag "all-met"
"""


@settings(max_examples=60, deadline=None)
@given(
    histories,
    st.lists(st.integers(0, 6 * 24 * 60), max_size=4),
    any_policies,
)
def test_triggers_asked_only_when_their_inputs_moved_fire_as_if_asked_at_every_step(
    history: list[Any], host_minutes: list[int], policies: str
) -> None:
    host_clock = sorted(START + timedelta(minutes=m) for m in host_minutes)
    events = sorted(_events(history), key=_time_order)
    _assert_asked_when_moved_as_always(events, host_clock, policies)


def test_a_handler_acting_after_a_handover_within_the_node_moves_node_triggers() -> None:
    # Only the node's handling changes at bo's private note: no field, no cycle.
    make = Events()
    at = START + timedelta(hours=2)
    events = [
        make.created("T-1", at, priority="normal", status="open", node="L1", assignee="al"),
        make.agent_reply("T-1", at + timedelta(minutes=5), by="al", public=False),
        make.updated("T-1", at + timedelta(minutes=9), assignee="bo"),
        make.agent_reply("T-1", at + timedelta(minutes=12), by="bo", public=False),
    ]
    actions = _assert_asked_when_moved_as_always(events, [])
    assert [action.trigger for action in actions if action.args == ("lead",)] == ["bo handled it"]


def _assert_asked_when_moved_as_always(
    events: list[dict[str, Any]], host_clock: list[datetime], policies: str = POLICIES
) -> list[Action]:
    skip_where_the_core_is_compiled()

    def run() -> tuple[list[Action], dict[str, Any]]:
        engine = Engine.from_text(policies + FIELD_AND_NODE_TRIGGERS)
        returned = _ingest_as_the_host_clock_moves(engine, events, host_clock)
        seen = {ticket: (engine.clocks(ticket, END), engine.explain(ticket, END))
                for ticket in engine.tickets()}  # fmt: skip
        return returned, seen

    asked_when_moved = run()
    with mock.patch.object(_Step, "_may_change", return_value=True):
        asked_always = run()
    assert asked_when_moved == asked_always
    return asked_when_moved[0]


def _records_by_ticket(events: list[dict[str, Any]]) -> dict[str, list[Record]]:
    records: dict[str, list[Record]] = {}
    for event in events:
        records.setdefault(event["ticket"], []).append(Record.of(Event.parse(event)))
    return {ticket: sorted(found) for ticket, found in records.items()}


def _slots(state: TicketState) -> dict[str, Any]:
    """Every slot's value, cycles by their own slots and the policy by name."""
    values = {name: getattr(state, name) for name in _STATE_SLOTS}
    values["policy"] = None if state.policy is None else state.policy.name
    values["cycles"] = [_cycle_slots(cycle) for cycle in state.cycles]
    values["latest"] = {metric: _cycle_slots(cycle) for metric, cycle in state.latest.items()}
    return values


def _cycle_slots(cycle: Cycle) -> dict[str, Any]:
    return {name: getattr(cycle, name) for name in _SLOTS}


# Every place a field is read: conditions of every kind, pauses, and message placeholders.
FIELDS_EVERYWHERE = (
    POLICIES
    + """
trigger "typed reads" {
    when created_at < first_response.due_at or custom.limit > 1h or customer.tier == "vip"
        or "x" in tags or subject contains "refund" or custom.seats >= 10
        or first_response.elapsed > custom.limit or node.entered_at > custom.cutoff
    then notify assignee "{id} {created_at} {custom.limit} {custom.promised_at} {tags} {node}"
}
"""
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
# Half the time, a value some reader has to think about: durations and instants as text,
# naive ones, numbers no datetime or timedelta can hold.
field_values = (
    st.sampled_from(
        ["1h", "1h30m", "2026-03-27T09:00:00Z", "2026-03-27T09:00", 3600, -1, 1e308, -(10**30)]
    )
    | json_values
)
any_fields = st.dictionaries(
    st.sampled_from(["priority", "status", "node", "assignee", "tags", "subject", "created_at",
                     "customer", "custom", "group"]),
    field_values | st.fixed_dictionaries({}, optional={
        "limit": field_values, "seats": field_values, "cutoff": field_values,
        "tier": field_values, "promised_at": field_values}),
    max_size=6,
)  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(st.lists(any_fields, min_size=1, max_size=4))
def test_no_json_in_any_field_makes_the_engine_fail(changes: list[dict[str, Any]]) -> None:
    engine, make = Engine.from_text(FIELDS_EVERYWHERE), Events()
    at = START
    engine.ingest(make.created("T-1", at, **changes[0]))
    for change in changes[1:]:
        at += timedelta(minutes=20)
        engine.ingest(make.updated("T-1", at, by="ana", **change))
    engine.advance(END)
    engine.clocks("T-1", END)
    assert engine.rejected == []
