"""Scenarios a support lead would recognise, each with the deadlines worked out by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from engine_helpers import HOUR, MINUTE, SECOND, Events, utc

from slarules import ClockState, Engine

OFFICE = """
calendar office {
    timezone "Europe/Berlin"
    hours mon-fri 09:00-17:00
    holiday 2026-03-04 "A holiday on Wednesday"
}
"""


@pytest.fixture
def events() -> Events:
    return Events()


def clock(engine: Engine, ticket: str, metric: str, now: str, cycle: int = 1):
    found = [c for c in engine.clocks(ticket, utc(now)) if c.metric == metric and c.cycle == cycle]
    assert found, f"no {metric} #{cycle} clock on {ticket}"
    return found[0]


def test_first_response_and_service_make_a_72h_resolution_period(events: Events) -> None:
    engine = Engine.from_text(
        'policy "Standard" { applies when true  first_response within 24h  service within 48h }'
    )
    engine.ingest(events.created("T-1", "2026-03-02T08:00:00Z"))
    first = clock(engine, "T-1", "first_response", "2026-03-02T08:00:00Z")
    assert first.due_at == utc("2026-03-03T08:00:00Z")

    # Answered on the dot: still in time, and the service clock has the remaining 48 h.
    engine.ingest(events.agent_reply("T-1", "2026-03-03T08:00:00Z"))
    first = clock(engine, "T-1", "first_response", "2026-03-03T08:00:00Z")
    assert first.state is ClockState.MET
    assert first.breached_at is None
    service = clock(engine, "T-1", "service", "2026-03-03T08:00:00Z")
    assert service.due_at == utc("2026-03-05T08:00:00Z")  # 72 h after the ticket came in


def test_an_early_first_response_brings_the_service_deadline_forward(events: Events) -> None:
    engine = Engine.from_text(
        'policy "Standard" { applies when true  first_response within 24h  service within 48h }'
    )
    engine.ingest(events.created("T-1", "2026-03-02T08:00:00Z"))
    engine.ingest(events.agent_reply("T-1", "2026-03-02T18:00:00Z"))
    service = clock(engine, "T-1", "service", "2026-03-02T18:00:00Z")
    assert service.due_at == utc("2026-03-04T18:00:00Z")  # 10 h + 48 h


def test_pending_pauses_the_clock_and_the_due_time_moves(events: Events) -> None:
    engine = Engine.from_text(
        OFFICE
        + """policy "Standard" {
            applies when true
            calendar office
            resolution within 8h
            pause while status in ["pending", "hold"]
        }"""
    )
    # Monday 09:00 Berlin (08:00 UTC): 8 business hours run out at Monday's closing, so the
    # ticket is due when the office opens again, Tuesday 09:00.
    engine.ingest(events.created("T-1", "2026-03-02T08:00:00Z", status="open"))
    assert clock(engine, "T-1", "resolution", "2026-03-02T08:00:00Z").due_at == utc(
        "2026-03-03T08:00:00Z"
    )
    engine.ingest(events.updated("T-1", "2026-03-02T10:00:00Z", status="pending"))
    paused = clock(engine, "T-1", "resolution", "2026-03-02T11:00:00Z")
    assert paused.state is ClockState.PAUSED
    assert paused.due_at is None
    assert paused.elapsed == 2 * HOUR
    # Two paused hours: due two business hours later, Tuesday 11:00 Berlin.
    engine.ingest(events.updated("T-1", "2026-03-02T12:00:00Z", status="open"))
    resumed = clock(engine, "T-1", "resolution", "2026-03-02T12:00:00Z")
    assert resumed.state is ClockState.RUNNING
    assert resumed.due_at == utc("2026-03-03T10:00:00Z")  # 4 h left on Monday, 2 h on Tuesday


PENDING_PAUSES = """policy "Standard" {
    applies when true
    resolution within 4h
    pause while status == "pending"
}"""


def test_a_ticket_pending_twice_counts_only_its_open_stretches(events: Events) -> None:
    engine = Engine.from_text(PENDING_PAUSES)
    # Open 08:00-09:00 and 10:00-11:00: two of its four hours used, then pending again.
    engine.ingest(events.created("T-1", "2026-03-02T08:00:00Z", status="open"))
    for at, status in (("09:00", "pending"), ("10:00", "open"), ("11:00", "pending")):
        engine.ingest(events.updated("T-1", f"2026-03-02T{at}:00Z", status=status))
    paused = clock(engine, "T-1", "resolution", "2026-03-02T11:30:00Z")
    assert (paused.state, paused.elapsed, paused.due_at) == (ClockState.PAUSED, 2 * HOUR, None)
    # Open from 12:00: the two hours left run out at 14:00, and it breaches while open; pending
    # at 14:30 again, the breach stays where it happened.
    engine.ingest(events.updated("T-1", "2026-03-02T12:00:00Z", status="open"))
    assert clock(engine, "T-1", "resolution", "2026-03-02T12:00:00Z").due_at == utc(
        "2026-03-02T14:00:00Z"
    )
    engine.ingest(events.updated("T-1", "2026-03-02T14:30:00Z", status="pending"))
    late = clock(engine, "T-1", "resolution", "2026-03-02T16:00:00Z")
    assert (late.elapsed, late.breached_at) == (4 * HOUR + 30 * MINUTE, utc("2026-03-02T14:00Z"))

    # Pending once for an hour, then solved at 14:00: its four hours ran out at 13:00.
    _pending_an_hour_then_solved(engine, events, "T-2", solved_at="14:00")
    solved = clock(engine, "T-2", "resolution", "2026-03-02T16:00:00Z")
    assert (solved.state, solved.elapsed) == (ClockState.BREACHED_MET, 5 * HOUR)
    assert solved.breached_at == utc("2026-03-02T13:00:00Z")


def _pending_an_hour_then_solved(
    engine: Engine, events: Events, ticket: str, solved_at: str
) -> None:
    """Opened at 08:00, pending from 09:00 to 10:00, solved at ``solved_at`` (UTC, same day)."""
    engine.ingest(events.created(ticket, "2026-03-02T08:00:00Z", status="open"))
    engine.ingest(events.updated(ticket, "2026-03-02T09:00:00Z", status="pending"))
    engine.ingest(events.updated(ticket, "2026-03-02T10:00:00Z", status="open"))
    engine.ingest(events.updated(ticket, f"2026-03-02T{solved_at}:00Z", status="solved"))


def test_a_clock_paused_as_its_target_runs_out_breaches_once_it_runs_again(
    events: Events,
) -> None:
    engine = Engine.from_text(PENDING_PAUSES)
    engine.ingest(events.created("T-1", "2026-03-02T08:00:00Z", status="open"))
    engine.ingest(events.updated("T-1", "2026-03-02T12:00:00Z", status="pending"))
    paused = clock(engine, "T-1", "resolution", "2026-03-02T12:30:00Z")
    assert (paused.state, paused.elapsed, paused.breached_at) == (
        ClockState.PAUSED, 4 * HOUR, None)  # fmt: skip
    engine.ingest(events.updated("T-1", "2026-03-02T13:00:00Z", status="open"))
    # Due the instant it runs again, and breached any instant after: not at 12:00, when it
    # stopped counting with its four hours exactly used.
    assert clock(engine, "T-1", "resolution", "2026-03-02T13:00:00Z").due_at == utc(
        "2026-03-02T13:00:00Z"
    )
    late = clock(engine, "T-1", "resolution", "2026-03-02T13:10:00Z")
    assert (late.state, late.breached_at) == (
        ClockState.BREACHED_RUNNING, utc("2026-03-02T13:00:00Z"))  # fmt: skip


def test_a_ticket_solved_within_its_target_has_no_due_time(events: Events) -> None:
    # Its target never ran out; solved on the dot, it is met all the same.
    engine = Engine.from_text(PENDING_PAUSES)
    _pending_an_hour_then_solved(engine, events, "T-1", solved_at="13:00")
    on_the_dot = clock(engine, "T-1", "resolution", "2026-03-02T18:00:00Z")
    assert (on_the_dot.state, on_the_dot.elapsed) == (ClockState.MET, 4 * HOUR)
    assert (on_the_dot.due_at, on_the_dot.breached_at) == (None, None)
    engine.ingest(events.created("T-2", "2026-03-02T08:00:00Z", status="open"))
    engine.ingest(events.updated("T-2", "2026-03-02T09:00:00Z", status="solved"))
    early = clock(engine, "T-2", "resolution", "2026-03-02T18:00:00Z")
    assert (early.state, early.due_at) == (ClockState.MET, None)


def test_a_metric_pauses_on_its_own_condition_and_others_run_on(events: Events) -> None:
    engine = Engine.from_text(
        """metric triage {
            start on created
            stop on reply by agent
            pause while status in ["hold", "pending"]
        }
        policy "Everything" { applies when true  triage within 30m  resolution within 8h }"""
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", status="open"))
    engine.ingest(events.updated("T-1", "2026-03-02T09:10:00Z", status="hold"))
    engine.ingest(events.updated("T-1", "2026-03-02T09:40:00Z", status="pending"))  # still paused
    engine.ingest(events.updated("T-1", "2026-03-02T10:10:00Z", status="open"))
    triage = clock(engine, "T-1", "triage", "2026-03-02T10:20:00Z")
    assert (triage.state, triage.elapsed) == (ClockState.RUNNING, 20 * MINUTE)
    assert triage.due_at == utc("2026-03-02T10:30:00Z")  # 10 min before the hold, 20 after
    assert clock(engine, "T-1", "resolution", "2026-03-02T10:20:00Z").elapsed == 80 * MINUTE


def test_a_clock_is_breached_only_after_its_due_instant(events: Events) -> None:
    engine = Engine.from_text(
        """policy "Standard" { applies when true  resolution within 4h }
        trigger "late" when resolution.breached and priority != "low" then tag "late"
        trigger "overdue" when overdue and priority != "low" then tag "overdue"
        trigger "past due" when resolution.state == "breached_running" and priority != "low"
            then tag "past-due"
        trigger "untimed" when first_response.breached or answer.breached then tag "never"
        trigger "in time" when resolution.met then tag "in-time"
        trigger "every clock met" when met then tag "all-met"
        """
    )
    due = utc("2026-03-02T12:00:00Z")
    assert engine.ingest(events.created("T-1", "2026-03-02T08:00:00Z", status="open")) == []
    assert engine.next_wakeup() == due + timedelta(microseconds=1)
    # Asked at the due instant itself (an event that the conditions read): not yet breached.
    assert engine.ingest(events.updated("T-1", due, priority="high")) == []
    assert clock(engine, "T-1", "resolution", "2026-03-02T12:00:00Z").state is ClockState.RUNNING
    fired = engine.advance(due + timedelta(microseconds=1))
    assert sorted(action.trigger for action in fired) == ["late", "overdue", "past due"]
    assert {action.at for action in fired} == {due + timedelta(microseconds=1)}
    # Solved on its due instant, T-2 met its target: and so every clock it has.
    engine.ingest(events.created("T-2", "2026-03-02T08:00:00Z", status="open"))
    solved = engine.ingest(events.updated("T-2", due, status="solved"))
    assert sorted(action.trigger for action in solved) == ["every clock met", "in time"]
    # Solved late, T-3 met nothing.
    engine.ingest(events.created("T-3", "2026-03-02T06:00:00Z", status="open"))
    engine.advance(due)
    late_solved = engine.ingest(events.updated("T-3", due, status="solved"))
    assert [action.trigger for action in late_solved] == []


def test_priority_raised_mid_ticket_switches_policy_and_recomputes_the_due_time(
    events: Events,
) -> None:
    engine = Engine.from_text(
        OFFICE
        + """
        policy "Urgent" { applies when priority == "urgent"  calendar always
                          first_response within 2h }
        policy "Normal" { applies when true  calendar office  first_response within 8h }
        """
    )
    # Friday 16:00 Berlin: 1 office hour on Friday, 7 on Monday -> Monday 16:00 Berlin.
    engine.ingest(events.created("T-1", "2026-03-06T15:00:00Z", priority="normal"))
    normal = clock(engine, "T-1", "first_response", "2026-03-06T15:00:00Z")
    assert (normal.policy, normal.due_at) == ("Normal", utc("2026-03-09T15:00:00Z"))

    # Raised to urgent half an hour later: the clock keeps its start, the target is 2 h of
    # round-the-clock time, counted over the whole history.
    engine.ingest(events.updated("T-1", "2026-03-06T15:30:00Z", priority="urgent"))
    urgent = clock(engine, "T-1", "first_response", "2026-03-06T15:30:00Z")
    assert urgent.policy == "Urgent"
    assert urgent.started_at == utc("2026-03-06T15:00:00Z")
    assert urgent.elapsed == 30 * MINUTE
    assert urgent.due_at == utc("2026-03-06T17:00:00Z")


def test_overdue_unhandled_node_notifies_then_urges_every_30_minutes_until_handled(
    events: Events,
) -> None:
    engine = Engine.from_text(
        """
        policy "Standard" { applies when true  first_response within 1h }
        trigger "urge the handler" {
            when overdue and node.unhandled
            then notify node.assignee, urge node.assignee every 30m
        }
        """
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", node="L1 triage", assignee="bob"))
    assert engine.next_wakeup() == utc("2026-03-02T10:00:00Z") + timedelta(microseconds=1)
    fired = engine.advance(utc("2026-03-02T10:10:00Z"))
    # Handed to Cleo between two urges: no urge comes early, and the next ones go to her.
    assert engine.ingest(events.updated("T-1", "2026-03-02T10:15:00Z", assignee="cleo")) == []
    fired += engine.advance(utc("2026-03-02T11:10:00Z"))
    assert [(a.name, a.args, a.at.strftime("%H:%M")) for a in fired] == [
        ("notify", ("bob",), "10:00"),
        ("urge", ("bob",), "10:00"),
        ("urge", ("cleo",), "10:30"),
        ("urge", ("cleo",), "11:00"),
    ]
    # One key per action, cycle of the clocks and visit of the node, and repeat.
    assert [a.key.removeprefix("T-1/urge the handler/") for a in fired] == [
        "first_response:1,node:1/0/0", "first_response:1,node:1/1/0",
        "first_response:1,node:1/1/1", "first_response:1,node:1/1/2"]  # fmt: skip
    assert (fired[0].trigger, fired[0].clock) == ("urge the handler", "first_response")
    assert fired[0].reason == (
        "`overdue and node.unhandled` holds; "
        "first_response #1 just went past its target, 100% of 1h used"
    )
    assert fired[1].reason == fired[0].reason  # the first urge is no repeat yet
    assert fired[2].reason == (
        "`overdue and node.unhandled` holds (repeat 1, every 30m); "
        "first_response #1 30m over target, 150% of 1h used"
    )

    # Cleo acts on the ticket: the node is handled, the urging stops.
    engine.ingest(events.updated("T-1", "2026-03-02T11:20:00Z", by="cleo", status="open"))
    assert engine.advance(utc("2026-03-02T15:00:00Z")) == []
    # Sent on to the next stage, still unanswered: its new handler is told, in a visit of its own.
    moved = engine.ingest(
        events.updated("T-1", "2026-03-02T15:10:00Z", node="L2 review", assignee="eve")
    )
    assert [(a.name, a.args, a.key) for a in moved] == [
        ("notify", ("eve",), "T-1/urge the handler/first_response:1,node:2/0/0"),
        ("urge", ("eve",), "T-1/urge the handler/first_response:1,node:2/1/0"),
    ]


def test_next_response_cycles_on_each_requester_reply(events: Events) -> None:
    engine = Engine.from_text('policy "P" { applies when true  next_response within 2h }')
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z"))
    engine.ingest(events.requester_reply("T-1", "2026-03-02T10:00:00Z"))
    engine.ingest(events.requester_reply("T-1", "2026-03-02T10:30:00Z"))  # still waiting
    engine.ingest(events.agent_reply("T-1", "2026-03-02T11:00:00Z"))
    engine.ingest(events.requester_reply("T-1", "2026-03-02T13:00:00Z"))
    clocks = list(engine.clocks("T-1", utc("2026-03-02T16:00:00Z")))
    assert [(c.cycle, c.state, c.elapsed) for c in clocks] == [
        (1, ClockState.MET, HOUR),
        (2, ClockState.BREACHED_RUNNING, 3 * HOUR),
    ]
    assert clocks[1].breached_at == utc("2026-03-02T15:00:00Z")


def test_a_trigger_fires_again_in_each_cycle_of_its_clock(events: Events) -> None:
    engine = Engine.from_text(
        """policy "P" { applies when true  next_response within 1h }
        trigger "answer the customer" when next_response.overdue then notify "team"
        """
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z"))
    engine.ingest(events.requester_reply("T-1", "2026-03-02T09:00:00Z"))
    first = engine.advance(utc("2026-03-02T10:30:00Z"))
    engine.ingest(events.agent_reply("T-1", "2026-03-02T10:40:00Z"))
    engine.ingest(events.requester_reply("T-1", "2026-03-02T11:00:00Z"))
    second = engine.advance(utc("2026-03-02T13:00:00Z"))
    assert [(a.key, a.at) for a in first + second] == [
        ("T-1/answer the customer/next_response:1/0/0", utc("2026-03-02T10:00:00.000001Z")),
        ("T-1/answer the customer/next_response:2/0/0", utc("2026-03-02T12:00:00.000001Z")),
    ]


def test_a_trigger_that_stops_urging_leaves_another_urging(events: Events) -> None:
    engine = Engine.from_text(
        """policy "Standard" { applies when true  first_response within 1h }
        trigger "urge the handler" when overdue and node.unhandled then urge node.assignee every 30m
        trigger "escalate" when first_response.overdue then escalate "duty-manager" every 1h"""
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", node="L1", assignee="bob"))
    engine.advance(utc("2026-03-02T10:10:00Z"))
    # Bob looks at it (the node is handled) but nobody answers: the escalations go on.
    engine.ingest(events.updated("T-1", "2026-03-02T10:20:00Z", by="bob", status="open"))
    later = engine.advance(utc("2026-03-02T12:10:00Z"))
    assert [(a.name, a.at.strftime("%H:%M")) for a in later] == [
        ("escalate", "11:00"), ("escalate", "12:00")]  # fmt: skip


def test_a_metric_started_by_a_condition_starts_a_cycle_each_time_it_comes_true(
    events: Events,
) -> None:
    engine = Engine.from_text(
        """metric our_turn {
            start when status in ["new", "open"]
            stop when status == "pending"
            repeat
        }
        policy "P" { applies when true  our_turn within 1h }"""
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", status="new"))
    engine.ingest(events.updated("T-1", "2026-03-02T09:30:00Z", status="pending"))
    engine.ingest(events.updated("T-1", "2026-03-02T10:00:00Z", status="open"))
    engine.ingest(events.updated("T-1", "2026-03-02T10:10:00Z", status="new"))  # still our turn
    engine.ingest(events.updated("T-1", "2026-03-02T10:20:00Z", status="pending"))
    clocks = engine.clocks("T-1", utc("2026-03-02T12:00:00Z"))
    assert [(c.cycle, c.state, c.elapsed) for c in clocks] == [
        (1, ClockState.MET, 30 * MINUTE),
        (2, ClockState.MET, 20 * MINUTE),
    ]


def test_a_node_is_overdue_by_its_own_clocks_only(events: Events) -> None:
    engine = Engine.from_text(
        """policy "P" {
            applies when true
            first_response within 1h
            node "L2 review" response within 4h
        }
        trigger "stage late" when node overdue then notify "stage lead"
        trigger "late" when overdue then notify "team lead"
        """
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", node="L1 triage"))
    engine.ingest(events.updated("T-1", "2026-03-02T09:30:00Z", node="L2 review", assignee="eve"))
    # The first response is late at 10:00; the stage's own response is not due before 13:30.
    fired = engine.advance(utc("2026-03-02T13:00:00Z"))
    assert [(a.trigger, a.at) for a in fired] == [
        ("late", utc("2026-03-02T10:00:00.000001Z"))]  # fmt: skip
    later = engine.advance(utc("2026-03-02T14:00:00Z"))
    assert [(a.trigger, a.at) for a in later] == [
        ("stage late", utc("2026-03-02T13:30:00.000001Z"))]  # fmt: skip


CALLS = """
policy "Phone" { applies when channel == "phone"  answer within 20s }
trigger "missed the 20 seconds" when answer.breached then notify "supervisor"
"""


def test_calls_against_an_80_20_target(events: Events) -> None:
    engine = Engine.from_text(CALLS)
    start = utc("2026-03-02T09:00:00Z")
    engine.ingest(events.contact("C-1", "offered", start, channel="phone"))
    engine.ingest(events.contact("C-1", "answered", start + 18 * SECOND))
    engine.ingest(events.contact("C-2", "offered", start, channel="phone"))
    engine.ingest(events.contact("C-2", "abandoned", start + 4 * SECOND))
    engine.ingest(events.contact("C-3", "offered", start, channel="phone"))
    fired = engine.ingest(events.contact("C-3", "abandoned", start + 40 * SECOND))

    later = utc("2026-03-02T10:00:00Z")
    answered, quick_abandon, slow_abandon = (
        engine.clocks(ticket, later)[0] for ticket in ("C-1", "C-2", "C-3")
    )
    assert (answered.state, answered.elapsed) == (ClockState.MET, 18 * SECOND)
    assert (quick_abandon.state, quick_abandon.breached_at) == (ClockState.CANCELLED, None)
    assert (slow_abandon.state, slow_abandon.elapsed) == (ClockState.CANCELLED, 40 * SECOND)
    assert slow_abandon.breached_at == start + 20 * SECOND
    # Only the caller who waited 40 s went past the 20 s, and the alert came at that moment.
    assert [(a.ticket, a.args, a.at) for a in fired] == [
        ("C-3", ("supervisor",), start + 20 * SECOND + timedelta(microseconds=1))
    ]
    assert engine.advance(later) == []


def test_calls_delivered_together_after_the_fact_are_judged_on_all_they_say(
    events: Events,
) -> None:
    engine = Engine.from_text(CALLS)
    start = utc("2026-03-02T09:00:00Z")
    engine.advance(start + 15 * MINUTE)  # the host's clock runs on; the calls' events come later
    fired = engine.ingest_many(
        [
            events.contact("C-1", "offered", start, channel="phone"),
            events.contact("C-1", "answered", start + 5 * SECOND),
            events.contact("C-2", "offered", start, channel="phone"),
            events.contact("C-2", "abandoned", start + 3 * SECOND),
            events.contact("C-3", "offered", start, channel="phone"),
        ]
    )
    # Only C-3, still waiting, has gone past its 20 s; one at a time, C-1 and C-2 would each
    # have been taken for missed before the event that says otherwise came.
    assert [(a.ticket, a.at) for a in fired] == [
        ("C-3", start + 20 * SECOND + timedelta(microseconds=1))]  # fmt: skip
    assert engine.stats.replays == 0


def test_the_green_part_of_a_bar_lasts_until_the_first_public_answer(events: Events) -> None:
    engine = Engine.from_text(
        """policy "Email" { applies when channel == "email"  resolution within 4h }
        policy "Phone" { applies when channel == "phone"  answer within 20s }"""
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", channel="email"))
    # The requester writing again, or an agent's private note, is no answer to the requester.
    engine.ingest(events.requester_reply("T-1", "2026-03-02T09:20:00Z"))
    engine.ingest(events.agent_reply("T-1", "2026-03-02T09:30:00Z", public=False))
    engine.ingest(events.agent_reply("T-1", "2026-03-02T10:00:00Z"))
    engine.ingest(events.agent_reply("T-1", "2026-03-02T10:30:00Z"))
    bar = clock(engine, "T-1", "resolution", "2026-03-02T11:00:00Z").progress
    assert (bar.response, bar.handling, bar.overtime) == (HOUR, HOUR, timedelta(0))
    # A call: green until it is answered.
    start = utc("2026-03-02T09:00:00Z")
    engine.ingest(events.contact("C-1", "offered", start, channel="phone"))
    engine.ingest(events.contact("C-1", "answered", start + 18 * SECOND))
    call = engine.clocks("C-1", start + HOUR)[0].progress
    assert (call.response, call.handling) == (18 * SECOND, timedelta(0))


@pytest.mark.parametrize(
    ("on_close", "due"), [("next_open", "2026-03-03T09:00:00Z"), ("close", "2026-03-02T17:00:00Z")]
)
def test_a_target_that_runs_out_at_closing_is_due_as_the_calendar_says(
    events: Events, on_close: str, due: str
) -> None:
    engine = Engine.from_text(
        f"""
        calendar office {{ timezone "UTC"  hours mon-fri 09:00-17:00  on_close {on_close} }}
        policy "P" {{ applies when true  calendar office  first_response within 8h }}
        trigger "late" when first_response.overdue
            then notify "lead" "due {{first_response.due_at}}"
        """
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z"))
    evening = clock(engine, "T-1", "first_response", "2026-03-02T20:00:00Z")
    assert (evening.state, evening.remaining, evening.due_at) == (
        ClockState.RUNNING, timedelta(0), utc(due))  # fmt: skip
    # Either way, no business time passes overnight: the breach comes as the office opens.
    [late] = engine.advance(utc("2026-03-03T10:00:00Z"))
    assert late.at == utc("2026-03-03T09:00:00.000001Z")
    assert late.args == ("lead", f"due {utc(due).isoformat()}")
    morning = clock(engine, "T-1", "first_response", "2026-03-03T10:00:00Z")
    assert (morning.breached_at, morning.due_at) == (utc("2026-03-03T09:00:00Z"), utc(due))


def test_a_pause_while_closed_leaves_a_closing_due_time_as_it_was(events: Events) -> None:
    engine = Engine.from_text(
        """
        calendar office { timezone "UTC"  hours mon-fri 09:00-17:00  on_close close }
        policy "P" { applies when true  calendar office  resolution within 1h
                     pause while status in ["pending"] }
        """
    )
    engine.ingest(events.created("T-1", "2026-03-02T16:00:00Z", status="open"))
    # The hour runs out at the 17:00 closing; pending and back while closed moves nothing.
    engine.ingest(events.updated("T-1", "2026-03-02T18:00:00Z", status="pending"))
    engine.ingest(events.updated("T-1", "2026-03-02T19:00:00Z", status="open"))
    evening = clock(engine, "T-1", "resolution", "2026-03-02T20:00:00Z")
    assert (evening.elapsed, evening.due_at) == (HOUR, utc("2026-03-02T17:00:00Z"))


def test_a_holiday_in_the_middle_of_a_resolution_clock(events: Events) -> None:
    engine = Engine.from_text(
        OFFICE + 'policy "P" { applies when true  calendar office  resolution within 16h }'
    )
    # Tuesday 13:00 Berlin: 4 h on Tuesday, Wednesday is a holiday, 8 h Thursday, 4 h Friday.
    engine.ingest(events.created("T-1", "2026-03-03T12:00:00Z"))
    resolution = clock(engine, "T-1", "resolution", "2026-03-05T12:00:00Z")
    assert resolution.due_at == utc("2026-03-06T12:00:00Z")
    assert resolution.elapsed == 4 * HOUR + 4 * HOUR  # Tuesday and Thursday; Wednesday is off


def test_an_event_that_arrives_an_hour_late(events: Events) -> None:
    engine = Engine.from_text(
        """
        policy "P" { applies when true  first_response within 1h }
        trigger "late answer" when first_response.overdue then notify "lead"
        """
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z"))
    reply = events.agent_reply("T-1", "2026-03-02T09:50:00Z")
    # The host's clock reaches 10:50 before the reply, written at 09:50, is delivered.
    fired = engine.advance(utc("2026-03-02T10:50:00Z"))
    assert [a.args for a in fired] == [("lead",)]
    assert clock(engine, "T-1", "first_response", "2026-03-02T10:50:00Z").state is (
        ClockState.BREACHED_RUNNING
    )

    assert engine.ingest(reply) == []
    corrected = clock(engine, "T-1", "first_response", "2026-03-02T10:50:00Z")
    assert (corrected.state, corrected.elapsed) == (ClockState.MET, 50 * MINUTE)
    assert engine.stats.replays == 1
    # Replaying again never returns the alert a second time.
    assert engine.ingest(events.requester_reply("T-1", "2026-03-02T09:55:00Z")) == []
    assert engine.advance(utc("2026-03-02T12:00:00Z")) == []


def test_a_late_event_that_starts_another_clock_returns_no_alert_again(events: Events) -> None:
    engine = Engine.from_text(
        """
        policy "P" { applies when true  calendar always  first_response within 1h
                     next_response within 4h }
        trigger "late" when breached then escalate "duty-manager"
        """
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z"))
    fired = engine.advance(utc("2026-03-02T11:00:00Z"))
    assert [(a.key, a.at) for a in fired] == [
        ("T-1/late/first_response:1/0/0", utc("2026-03-02T10:00:00.000001Z"))]  # fmt: skip
    # The requester's reply, written at 09:30, comes late: it starts a next_response clock
    # before the breach, which is still the first response's, and was told once.
    assert engine.ingest(events.requester_reply("T-1", "2026-03-02T09:30:00Z")) == []
    assert [c.metric for c in engine.clocks("T-1", utc("2026-03-02T11:00:00Z"))] == [
        "first_response", "next_response"]  # fmt: skip
    assert engine.advance(utc("2026-03-02T12:00:00Z")) == []


def test_warnings_before_the_breach(events: Events) -> None:
    engine = Engine.from_text(
        'policy "P" { applies when true  resolution within 10h warn at 50%, 80% }'
    )
    engine.ingest(events.created("T-1", "2026-03-02T08:00:00Z", assignee="bob"))
    warned = engine.advance(utc("2026-03-02T20:00:00Z"))
    assert [(a.name, a.trigger, a.at, a.args) for a in warned] == [
        ("warn", "warn at 50%", utc("2026-03-02T13:00:00Z"), ("bob",)),
        ("warn", "warn at 80%", utc("2026-03-02T16:00:00Z"), ("bob",)),
    ]
    assert warned[1].reason == "80% of the target used; resolution #1 2h left, 80% of 10h used"


def test_remaining_time_condition_fires_at_the_exact_instant(events: Events) -> None:
    engine = Engine.from_text(
        OFFICE
        + """
        policy "P" { applies when true  calendar office  resolution within 4h }
        trigger "one hour left" {
            when resolution.remaining < 1h
            then notify assignee "resolution due at {resolution.due_at}"
        }
        """
    )
    # Monday 16:00 Berlin: 1 h today, 3 h Tuesday from 09:00 -> due Tuesday 12:00 Berlin.
    engine.ingest(events.created("T-1", "2026-03-02T15:00:00Z", assignee="bob"))
    fired = engine.advance(utc("2026-03-04T00:00:00Z"))
    assert len(fired) == 1
    # Less than 1 h left from the first instant after 11:00 Berlin on Tuesday.
    assert fired[0].at == utc("2026-03-03T10:00:00Z") + timedelta(microseconds=1)
    assert fired[0].args == ("bob", "resolution due at 2026-03-03T11:00:00+00:00")


def test_node_transfer_starts_the_next_node_clocks(events: Events) -> None:
    engine = Engine.from_text(
        """
        policy "P" {
            applies when true
            node "L1 triage" response within 10m, handling within 30m
            node "L2 review" response within 1h, handling within 4h
        }
        """
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", node="L1 triage", assignee="al"))
    engine.ingest(events.agent_reply("T-1", "2026-03-02T09:05:00Z", by="al"))
    engine.ingest(
        events.updated("T-1", "2026-03-02T09:20:00Z", by="al", node="L2 review", assignee="bo")
    )
    clocks = {(c.metric, c.node): c for c in engine.clocks("T-1", utc("2026-03-02T10:00:00Z"))}
    assert clocks["node_response", "L1 triage"].state is ClockState.MET
    assert clocks["node_handling", "L1 triage"].elapsed == 20 * MINUTE
    l2 = clocks["node_response", "L2 review"]
    assert (l2.state, l2.target, l2.due_at) == (
        ClockState.RUNNING,
        HOUR,
        utc("2026-03-02T10:20:00Z"),
    )


def test_a_clock_across_the_spring_forward_night_counts_physical_time(events: Events) -> None:
    engine = Engine.from_text(
        """
        calendar berlin_all_day { timezone "Europe/Berlin"  hours mon-sun 00:00-24:00 }
        policy "P" { applies when true  calendar berlin_all_day  resolution within 24h }
        """
    )
    # Sunday 29 March 2026 has 23 hours in Berlin: 24 h from Saturday 12:00 (11:00 UTC) end at
    # Sunday 13:00 local, which is 11:00 UTC, a full physical day later.
    engine.ingest(events.created("T-1", "2026-03-28T11:00:00Z"))
    resolution = clock(engine, "T-1", "resolution", "2026-03-29T10:00:00Z")
    assert resolution.due_at == utc("2026-03-29T11:00:00Z")
    assert resolution.elapsed == 23 * HOUR


def test_a_ticket_solved_inside_a_node_ends_the_node_clocks(events: Events) -> None:
    engine = Engine.from_text(
        'policy "P" { applies when true  node "L1" response within 10m, handling within 30m }'
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", node="L1", assignee="al"))
    # A colleague solves it before the assignee acted: handling ends, the response never came.
    engine.ingest(events.updated("T-1", "2026-03-02T09:05:00Z", by="bo", status="solved"))
    clocks = {c.metric: c for c in engine.clocks("T-1", utc("2026-03-02T12:00:00Z"))}
    assert (clocks["node_handling"].state, clocks["node_handling"].elapsed) == (
        ClockState.MET,
        5 * MINUTE,
    )
    assert clocks["node_response"].state is ClockState.CANCELLED
    assert engine.next_wakeup() is None


def test_a_clock_started_while_its_stop_condition_holds_stops_at_once(events: Events) -> None:
    # The status does not change at the reply, yet the new cycle must meet `stop when`; the same
    # for a clock started by another one's start (`start of`), later in the same step.
    engine = Engine.from_text(
        """
        metric chase { start on reply by requester  stop when status == "solved"  repeat }
        metric echo { start on start of chase  stop when status == "solved"  repeat }
        policy "P" { applies when true  chase within 1h  echo within 1h }
        """
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", status="open"))
    engine.ingest(events.requester_reply("T-1", "2026-03-02T09:10:00Z"))
    engine.ingest(events.updated("T-1", "2026-03-02T09:20:00Z", status="solved"))
    engine.ingest(events.requester_reply("T-1", "2026-03-02T09:30:00Z"))
    engine.ingest(events.requester_reply("T-1", "2026-03-02T09:40:00Z"))
    clocks = engine.clocks("T-1", utc("2026-03-02T12:00:00Z"))
    assert [(c.metric, c.cycle, c.elapsed, c.state.value) for c in clocks] == [
        ("chase", 1, 10 * MINUTE, "met"),
        ("echo", 1, 10 * MINUTE, "met"),
        ("chase", 2, timedelta(0), "met"),
        ("echo", 2, timedelta(0), "met"),
        ("chase", 3, timedelta(0), "met"),
        ("echo", 3, timedelta(0), "met"),
    ]


def test_a_clock_started_by_a_condition_while_its_stop_holds_stops_at_once(
    events: Events,
) -> None:
    # Escalated tickets get a triage clock that a VIP tag ends; this one never had the tag.
    # It ends as it starts, not at the breach timer nor at whichever event comes next.
    engine = Engine.from_text(
        """
        metric triage { start when priority == "urgent"  stop when not ("vip" in tags) }
        policy "P" { applies when true  calendar always  triage within 1m }
        """
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", priority="urgent", tags=[]))
    engine.advance(utc("2026-03-02T10:00:00Z"))
    engine.ingest(events.agent_reply("T-1", "2026-03-02T11:00:00Z", public=False))
    (triage,) = engine.clocks("T-1", utc("2026-03-02T12:00:00Z"))
    assert (triage.elapsed, triage.state) == (timedelta(0), ClockState.MET)
    assert triage.stopped_at == utc("2026-03-02T09:00:00Z")


def test_a_clock_started_on_an_event_without_fields_pauses_if_the_status_says_so(
    events: Events,
) -> None:
    engine = Engine.from_text(
        'policy "P" { applies when true  next_response within 1h  pause while status == "hold" }'
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", status="hold"))
    engine.ingest(events.requester_reply("T-1", "2026-03-02T09:10:00Z"))
    engine.ingest(events.updated("T-1", "2026-03-02T10:10:00Z", status="open"))
    (next_response,) = engine.clocks("T-1", utc("2026-03-02T10:40:00Z"))
    assert next_response.elapsed == 30 * MINUTE


def test_a_ticket_solved_after_other_changes_meets_its_resolution(events: Events) -> None:
    engine = Engine.from_text(
        'policy "P" { applies when true  calendar always  resolution within 8h }'
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", status="open"))
    engine.ingest(events.updated("T-1", "2026-03-02T09:30:00Z", priority="high", group="billing"))
    engine.ingest(events.updated("T-1", "2026-03-02T11:00:00Z", status="solved"))
    resolution = clock(engine, "T-1", "resolution", "2026-03-02T12:00:00Z")
    assert (resolution.state, resolution.elapsed) == (ClockState.MET, 2 * HOUR)


def test_a_ticket_on_hold_runs_again_under_a_policy_that_does_not_wait_on_hold(
    events: Events,
) -> None:
    engine = Engine.from_text("""
        policy "Urgent" { applies when priority == "urgent"  calendar always
                          resolution within 4h  pause while status == "pending" }
        policy "Normal" { applies when true  calendar always
                          resolution within 1d  pause while status in ["pending", "hold"] }
    """)
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", priority="normal", status="open"))
    engine.ingest(events.updated("T-1", "2026-03-02T10:00:00Z", status="hold"))
    # Raised to urgent while on hold: the urgent policy does not pause on hold.
    engine.ingest(events.updated("T-1", "2026-03-02T11:00:00Z", priority="urgent"))
    resolution = clock(engine, "T-1", "resolution", "2026-03-02T12:00:00Z")
    assert (resolution.state, resolution.elapsed) == (ClockState.RUNNING, 2 * HOUR)
    assert resolution.due_at == utc("2026-03-02T14:00:00Z")


def test_a_customers_own_limit_in_a_custom_field_is_timed_to_the_second(events: Events) -> None:
    # The contract says how long this customer waits at most, in seconds, in the helpdesk's
    # custom field; the team is told when the wait passes it, in business time.
    engine = Engine.from_text(
        OFFICE
        + 'policy "Contract" { applies when true  calendar office  first_response within 8h }\n'
        + 'trigger "over contract" when first_response.elapsed > custom.contract_wait '
        + 'then notify "account-team"'
    )
    engine.ingest(events.created("T-1", "2026-03-02T15:30:00Z", custom={"contract_wait": 7200}))
    # 15:30 UTC is 16:30 in Berlin: 30 min on Monday, 1 h 30 min from 09:00 on Tuesday.
    assert engine.next_wakeup() == utc("2026-03-03T10:30:00.000001+01:00")
    # Renegotiated at 09:15 (45 min used): three hours now, written as such.
    engine.ingest(events.updated("T-1", "2026-03-03T08:15:00Z", custom={"contract_wait": "3h"}))
    assert engine.next_wakeup() == utc("2026-03-03T11:30:00.000001+01:00")
    assert engine.advance(utc("2026-03-03T11:30:00+01:00")) == []
    [told] = engine.advance(utc("2026-03-03T11:30:00.000001+01:00"))
    assert (told.trigger, told.args) == ("over contract", ("account-team",))


def test_a_stage_named_in_a_trigger_is_watched_there_only(events: Events) -> None:
    # The language guide's "stuck in L2": late in triage says nothing, late in review escalates.
    engine = Engine.from_text(
        """
        policy "P" {
            applies when true
            node "L1 triage" response within 10m
            node "L2 review" response within 30m
        }
        trigger "stuck in L2" {
            when node.name == "L2 review" and node overdue and node.unhandled
            then escalate group "l2-leads"
        }
        trigger "moved after the cutoff" when node.entered_at > custom.cutoff then log "late"
        """
    )
    cutoff = {"cutoff": "2026-03-02T10:10:00+01:00"}
    created = events.created("T-1", "2026-03-02T09:00:00Z", node="L1 triage", assignee="al",
                             custom=cutoff)  # fmt: skip
    assert engine.ingest(created) == []
    assert [a.trigger for a in engine.advance(utc("2026-03-02T09:15:00Z"))] == []
    moved = engine.ingest(
        events.updated("T-1", "2026-03-02T09:20:00Z", by="al", node="L2 review", assignee="bo")
    )
    assert [a.trigger for a in moved] == ["moved after the cutoff"]
    assert engine.next_wakeup() == utc("2026-03-02T09:50:00.000001Z")
    [stuck] = engine.advance(utc("2026-03-02T09:50:00.000001Z"))
    assert (stuck.trigger, stuck.args[-1]) == ("stuck in L2", "l2-leads")  # the last: the target


def test_a_message_shows_the_ticket_its_clocks_and_its_fields_as_they_are(
    events: Events,
) -> None:
    engine = Engine.from_text(
        'policy "P" { applies when true  calendar always  first_response within 4h }\n'
        'trigger "new" when true then notify "ticket {id} (opened {created_at}): reply by '
        "{first_response.due_at}, {first_response.remaining} left; promised "
        '{custom.promised_at}, region {custom.region}, stage since {node.entered_at}"'
    )
    fields = {"created_at": 1772442000, "custom": {"promised_at": "by lunch"}}
    [told] = engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z", **fields))
    # A field is shown as the helpdesk sent it, whatever its name ends with; one the ticket
    # lacks, and the node of a ticket in none, are `-`.
    assert told.args == ("ticket T-1 (opened 2026-03-02T09:00:00+00:00): reply by "
                         "2026-03-02T13:00:00+00:00, 4h left; promised by lunch, region -, "
                         "stage since -",)  # fmt: skip
