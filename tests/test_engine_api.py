"""The engine's API around the clocks: bad events, duplicates, snapshots, explanations."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from engine_helpers import (
    HOUR,
    MINUTE,
    Events,
    break_steps,
    skip_where_the_core_is_compiled,
    utc,
)

from slarules import (
    ClockState,
    Engine,
    EngineState,
    EventError,
    PolicyValidationError,
    SlaRulesError,
    parse_policies,
)
from slarules import engine as engine_module
from slarules._ticket import TicketState, _Step

POLICY = """
policy "P" { applies when true  first_response within 1h  resolution within 4h }
trigger "late" when first_response.overdue then notify "lead"
trigger "urge" when resolution.overdue then urge every 30m
"""


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"at": "2026-03-02T09:00:00"}, "at", "naive timestamp"),
        ({"type": "ticket.create"}, "type", "did you mean `ticket.created`?"),
        ({"ticket": None}, "ticket", "string"),
        ({"fields": {"seats": {1, 2}}}, "fields.seats", "not a JSON value"),
        ({"fields": {"ratio": float("nan")}}, "fields.ratio", "NaN"),
        ({"actor": {"role": "robot"}}, "actor.role", "'agent', 'requester' or 'system'"),
        ({"colour": "red"}, "colour", "custom values go in `fields`"),
    ],
)
def test_a_bad_event_names_its_field_and_is_kept(
    events: Events, change: dict[str, object], field: str, reason: str
) -> None:
    engine = Engine.from_text(POLICY)
    payload = {**events.created("T-1", "2026-03-02T09:00:00Z"), **change}
    with pytest.raises(EventError) as caught:
        engine.ingest(payload)
    assert caught.value.problems[0][0] == field
    assert reason in str(caught.value)
    assert str(caught.value).startswith("event `evt-1` rejected: ")
    assert [r.problems[0][0] for r in engine.rejected] == [field]
    assert engine.stats.rejected == 1
    json.dumps(engine.snapshot().model_dump(mode="json"))  # kept in a form that persists


def test_a_missing_ticket_id_is_rejected(events: Events) -> None:
    payload = events.created("T-1", "2026-03-02T09:00:00Z")
    del payload["ticket"]
    with pytest.raises(EventError, match="`ticket`: required"):
        Engine.from_text(POLICY).ingest(payload)


def test_ingest_many_goes_on_past_bad_events_which_can_be_retried(events: Events) -> None:
    engine = Engine.from_text(POLICY)
    created = events.created("T-1", "2026-03-02T09:00:00Z")
    broken = {**events.agent_reply("T-1", "2026-03-02T09:30:00Z"), "type": "ticket.reply"}
    engine.ingest_many([created, broken])
    assert engine.tickets() == ["T-1"]
    assert len(engine.rejected) == 1
    # The adapter is fixed: the rejected payload is corrected and retried.
    engine.rejected[0] = engine.rejected[0].model_copy(
        update={"payload": {**broken, "type": "ticket.replied"}}
    )
    assert engine.retry_rejected() == []
    assert engine.rejected == []
    first = engine.clocks("T-1", utc("2026-03-02T12:00:00Z"))[0]
    assert first.metric == "first_response"
    assert first.elapsed == timedelta(minutes=30)


FAILING = POLICY + 'trigger "waiting" when status == "pending" then tag "waiting"\n'


def test_an_event_the_engine_fails_on_leaves_the_ticket_as_it_was_and_is_kept(
    events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bug that strikes in the middle of a step, after a trigger fired: nothing of the step
    # may stay, and the event must not be lost.
    skip_where_the_core_is_compiled()
    fire_warnings = _Step.fire_warnings

    def broken(step: _Step) -> None:
        if step.record is not None and step.record.id.startswith("bad"):
            raise ZeroDivisionError("a bug")
        fire_warnings(step)

    monkeypatch.setattr(_Step, "fire_warnings", broken)
    created = events.created("T-1", "2026-03-02T09:00:00Z")
    pending = {**events.updated("T-1", "2026-03-02T09:10:00Z", status="pending"), "id": "bad-1"}
    later = events.agent_reply("T-1", "2026-03-02T09:20:00Z")
    new = {**events.created("T-2", "2026-03-02T09:30:00Z"), "id": "bad-2"}
    engine, reference = Engine.from_text(FAILING), Engine.from_text(FAILING)
    engine.ingest(created)
    reference.ingest_many([created, later])
    with pytest.raises(EventError, match=r"the engine failed on it \(ZeroDivisionError: a bug\)"):
        engine.ingest(pending)
    assert engine.ingest_many([new, later]) == []  # the batch goes on past it
    assert engine.tickets() == ["T-1"]  # T-2 came to nothing
    at = utc("2026-03-02T12:00:00Z")
    assert engine.clocks("T-1", at) == reference.clocks("T-1", at)
    assert engine.stats.events == 2
    assert [item.payload["id"] for item in engine.rejected] == ["bad-1", "bad-2"]  # type: ignore[index]

    monkeypatch.undo()  # the fix
    retried = engine.retry_rejected()
    assert [(action.trigger, action.ticket) for action in retried] == [("waiting", "T-1")]
    reference.ingest_many([pending, new])
    assert engine.rejected == []
    assert engine.tickets() == ["T-1", "T-2"]
    for ticket in ("T-1", "T-2"):
        assert engine.clocks(ticket, at) == reference.clocks(ticket, at)


def two_tickets(policy: str, events: Events) -> Engine:
    """An engine with T-1 created at 09:00 and T-2 at 09:05: one to break, one to go on."""
    engine = Engine.from_text(policy)
    engine.ingest_many([events.created("T-1", "2026-03-02T09:00:00Z"),
                        events.created("T-2", "2026-03-02T09:05:00Z")])  # fmt: skip
    return engine


def test_a_timer_the_engine_fails_on_holds_back_no_other_ticket(
    events: Events, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    break_steps(monkeypatch, "T-1", timers_only=True)
    engine = two_tickets(POLICY, events)
    # T-1 is due first; its timer fails, T-2's goes on.
    fired = engine.advance(utc("2026-03-02T10:30:00Z"))
    assert {action.ticket for action in fired} == {"T-2"}
    assert "the engine failed on a timer of ticket `T-1`" in caplog.text
    caplog.clear()
    assert [a.ticket for a in engine.advance(utc("2026-03-02T13:10:00Z"))] == ["T-2"]
    assert caplog.text == ""  # put aside, not tried again at every advance
    first = engine.clocks("T-1", utc("2026-03-02T10:30:00Z"))[0]
    assert first.state is ClockState.BREACHED_RUNNING  # its clocks still read as they run
    monkeypatch.undo()  # the fix; a restart takes its timers up again, from where it is
    restored = Engine.restore(engine.policies, engine.snapshot())
    assert restored.next_wakeup() == utc("2026-03-02T10:00:00.000001Z")
    urged = restored.advance(utc("2026-03-02T13:40:00Z"))
    # What came due while its timers were held is given now, at the instants it came due.
    assert [(a.ticket, a.trigger, a.at) for a in urged] == [
        ("T-1", "late", utc("2026-03-02T10:00:00.000001Z")),
        ("T-1", "urge", utc("2026-03-02T13:00:00.000001Z")),
        ("T-1", "urge", utc("2026-03-02T13:30:00.000001Z")),
        ("T-2", "urge", utc("2026-03-02T13:35:00.000001Z")),
    ]


def with_a_failed_timer(
    events: Events, monkeypatch: pytest.MonkeyPatch, advanced_to: datetime
) -> Engine:
    """Two tickets advanced to ``advanced_to``, the timers of T-1 failing (a bug) since 09:00."""
    break_steps(monkeypatch, "T-1", timers_only=True)
    engine = two_tickets(POLICY, events)
    engine.advance(advanced_to)
    return engine


def test_an_event_for_a_ticket_whose_timer_failed_is_kept_and_taken_after_the_fix(
    events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = with_a_failed_timer(events, monkeypatch, utc("2026-03-02T10:30:00Z"))
    reply = events.agent_reply("T-1", "2026-03-02T10:40:00Z")
    with pytest.raises(EventError, match="failed on a timer of its ticket, which waits for a fix"):
        engine.ingest(reply)
    [kept] = engine.rejected
    assert kept.payload["id"] == reply["id"]
    monkeypatch.undo()
    restored = Engine.restore(engine.policies, engine.snapshot())
    assert restored.retry_rejected() == []  # the reply came before anything it stops fell due
    assert restored.rejected == []
    assert [(a.ticket, a.trigger) for a in restored.advance(utc("2026-03-02T10:45:00Z"))] == [
        ("T-1", "late")  # owed since 10:00; the reply at 10:40 stopped nothing before it
    ]
    assert restored.clocks("T-1", utc("2026-03-02T11:00:00Z"))[0].state is ClockState.BREACHED_MET


def test_what_a_restore_owes_survives_a_snapshot_until_given_and_is_given_once(
    events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = with_a_failed_timer(events, monkeypatch, utc("2026-03-02T11:00:00Z"))
    saved = engine.snapshot()
    held = next(ticket for ticket in saved.tickets if ticket.ticket == "T-1")
    assert held.timers_held_since == utc("2026-03-02T09:00:00Z")
    monkeypatch.undo()
    restored = Engine.restore(engine.policies, saved)
    again = Engine.restore(engine.policies, restored.snapshot())  # a crash before giving them
    given = again.advance(utc("2026-03-02T11:00:00Z"))
    assert [(a.ticket, a.trigger) for a in given] == [("T-1", "late")]
    assert again.snapshot().tickets[0].timers_held_since is None
    assert again.advance(utc("2026-03-02T11:00:00Z")) == []
    later = Engine.restore(engine.policies, again.snapshot())
    assert later.advance(utc("2026-03-02T11:00:00Z")) == []


def test_a_ticket_a_restore_cannot_replay_waits_as_saved_and_the_others_run(
    events: Events, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = two_tickets(POLICY, events)
    saved = engine.snapshot()
    break_steps(monkeypatch, "T-1")
    restored = Engine.restore(engine.policies, saved)
    assert "the engine failed replaying ticket `T-1`" in caplog.text
    assert restored.tickets() == ["T-2"]
    assert [a.ticket for a in restored.advance(utc("2026-03-02T10:30:00Z"))] == ["T-2"]
    later = events.agent_reply("T-1", "2026-03-02T10:40:00Z")
    with pytest.raises(EventError, match="its ticket is set aside"):
        restored.ingest(later)
    again = restored.snapshot()  # nothing of it lost
    assert [ticket.ticket for ticket in again.tickets] == ["T-2", "T-1"]
    fixed = fixed_and_retried(monkeypatch, again, events_taken=3)
    replied = fixed.clocks("T-1", utc("2026-03-02T11:00:00Z"))[0]
    assert (replied.metric, replied.state) == ("first_response", ClockState.BREACHED_MET)


def fixed_and_retried(
    monkeypatch: pytest.MonkeyPatch, saved: EngineState, events_taken: int
) -> Engine:
    """The fix, a restart, and the kept events taken again: both tickets run, none is kept."""
    monkeypatch.undo()
    fixed = Engine.restore(parse_policies(POLICY), saved)
    assert fixed.tickets() == ["T-2", "T-1"]
    fixed.retry_rejected()
    assert (fixed.rejected, fixed.stats.events) == ([], events_taken)
    return fixed


def test_a_ticket_the_engine_cannot_step_nor_replay_is_set_aside_and_the_others_run(
    events: Events, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = two_tickets(POLICY, events)
    break_steps(monkeypatch, "T-1")  # every step of it fails now, those of its replay too
    reply = events.agent_reply("T-1", "2026-03-02T09:40:00Z")
    with pytest.raises(EventError, match="the engine failed on it"):
        engine.ingest(reply)
    assert "the engine failed replaying ticket `T-1`: set aside" in caplog.text
    assert engine.tickets() == ["T-2"]
    with pytest.raises(EventError, match="its ticket is set aside"):
        engine.ingest(events.agent_reply("T-1", "2026-03-02T09:50:00Z"))
    assert [a.ticket for a in engine.advance(utc("2026-03-02T10:30:00Z"))] == ["T-2"]
    fixed = fixed_and_retried(monkeypatch, engine.snapshot(), events_taken=4)
    replied = fixed.clocks("T-1", utc("2026-03-02T11:00:00Z"))[0]
    assert (replied.metric, replied.state) == ("first_response", ClockState.MET)


def test_a_ticket_whose_timer_and_replay_fail_is_set_aside_with_what_it_owes(
    events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = two_tickets(POLICY, events)
    break_steps(monkeypatch, "T-1")
    assert [a.ticket for a in engine.advance(utc("2026-03-02T10:30:00Z"))] == ["T-2"]
    assert engine.tickets() == ["T-2"]
    assert engine.timers_held_since("T-1") == utc("2026-03-02T09:00:00Z")
    monkeypatch.undo()
    fixed = Engine.restore(engine.policies, engine.snapshot())
    owed = fixed.advance(utc("2026-03-02T10:30:00Z"))
    assert [(a.ticket, a.trigger, a.at) for a in owed] == [
        ("T-1", "late", utc("2026-03-02T10:00:00.000001Z"))
    ]


# A clock that stops on another's breach: reading it later needs the timers' steps.
TIMED_STOP = """
metric triage { start on created  stop when first_response.breached or status == "solved" }
policy "P" { applies when true  first_response within 1h  triage within 1d }
"""


def test_a_ticket_the_engine_fails_to_measure_is_left_out_of_the_figures(
    events: Events, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = two_tickets(TIMED_STOP, events)
    break_steps(monkeypatch, "T-1", timers_only=True)
    measured = list(engine.measure(utc("2026-03-02T12:00:00Z")))
    assert [ticket.ticket for ticket in measured] == ["T-2"]
    assert "the engine failed measuring ticket `T-1`" in caplog.text
    with pytest.raises(KeyError, match="no events for ticket `T-9`"):
        list(engine.measure(utc("2026-03-02T12:00:00Z"), ["T-9"]))


def test_duplicate_event_ids_are_ignored_and_counted(events: Events) -> None:
    engine = Engine.from_text(POLICY)
    created = events.created("T-1", "2026-03-02T09:00:00Z")
    reply = events.agent_reply("T-1", "2026-03-02T09:30:00Z")
    engine.ingest_many([created, reply, reply, {**created, "at": "2026-03-02T08:00:00Z"}])
    assert engine.stats.duplicates == 2
    assert engine.stats.events == 2
    assert engine.clocks("T-1", utc("2026-03-02T10:00:00Z"))[0].started_at == utc(
        "2026-03-02T09:00:00Z"
    )


def test_restored_under_a_new_policy_file_an_engine_fires_nothing_for_the_past(
    events: Events,
) -> None:
    # A reload of the service restores the engine under the new file: a trigger added there
    # runs from now on, and does not urge for every half hour that has gone by.
    engine = Engine.from_text(POLICY.replace("urge every 30m", 'tag "late"'))
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z"))
    assert [a.name for a in engine.advance(utc("2026-03-02T18:00:00Z"))] == ["notify", "tag"]
    restored = Engine.restore(parse_policies(POLICY), engine.snapshot())
    urged = restored.advance(utc("2026-03-02T18:40:00Z"))
    assert [(a.name, a.at) for a in urged] == [
        ("urge", utc("2026-03-02T18:00:00.000001Z")),  # the first after the engine's instant
        ("urge", utc("2026-03-02T18:30:00.000001Z")),
    ]


def test_a_snapshot_restores_an_engine_that_never_repeats_an_action(events: Events) -> None:
    engine = Engine.from_text(POLICY)
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z"))
    first = engine.advance(utc("2026-03-02T13:40:00Z"))
    assert [a.name for a in first] == ["notify", "urge", "urge"]

    saved = engine.snapshot().model_dump_json()
    restored = Engine.restore(engine.policies, EngineState.model_validate_json(saved))
    assert restored.clocks("T-1", utc("2026-03-02T13:40:00Z")) == engine.clocks(
        "T-1", utc("2026-03-02T13:40:00Z")
    )
    assert restored.next_wakeup() == engine.next_wakeup()
    later = restored.advance(utc("2026-03-02T14:10:00Z"))
    assert [(a.name, a.at) for a in later] == [
        ("urge", utc("2026-03-02T14:00:00.000001Z")),
    ]
    assert {a.key for a in later}.isdisjoint(a.key for a in first)


def test_explain_tells_why_a_clock_is_breached(events: Events) -> None:
    engine = Engine.from_text(
        POLICY.replace("applies when true", 'applies when true  pause while status == "pending"')
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z"))
    engine.ingest(events.updated("T-1", "2026-03-02T09:20:00Z", status="pending"))
    engine.ingest(events.updated("T-1", "2026-03-02T10:00:00Z", status="open"))
    explanation = engine.explain("T-1", utc("2026-03-02T11:00:00Z"))
    rows = [(r.at.strftime("%H:%M"), r.subject, r.change, r.cause) for r in explanation.transitions]
    assert ("09:00", "first_response #1", "started", "event evt-1 (ticket.created)") in rows
    assert ("09:20", "first_response #1", "paused", "event evt-2 (ticket.updated)") in rows
    assert ("10:00", "first_response #1", "resumed", "event evt-3 (ticket.updated)") in rows
    assert ("10:40", "trigger `late`", "`first_response.overdue` became true", "time") in rows
    text = explanation.render()
    assert "first_response #1: breached_running" in text
    assert "breached after 2026-03-02T10:40:00+00:00" in text


def test_clocks_can_be_read_at_any_instant_without_moving_the_engine(events: Events) -> None:
    engine = Engine.from_text(POLICY)
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z"))
    engine.ingest(events.agent_reply("T-1", "2026-03-02T09:45:00Z"))
    earlier = engine.clocks("T-1", utc("2026-03-02T09:30:00Z"))
    assert [(c.metric, c.state.value, c.elapsed) for c in earlier] == [
        ("first_response", "running", timedelta(minutes=30)),
        ("resolution", "running", timedelta(minutes=30)),
    ]
    assert engine.clocks("T-1", utc("2026-03-02T10:00:00Z"))[0].state.value == "met"
    progress = engine.clocks("T-1", utc("2026-03-02T14:00:00Z"))[1].progress
    assert (progress.response, progress.handling, progress.overtime) == (
        timedelta(minutes=45),
        4 * HOUR - timedelta(minutes=45),
        HOUR,
    )


def test_naive_now_and_unknown_tickets_are_clear_errors(events: Events) -> None:
    engine = Engine.from_text(POLICY)
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z"))
    with pytest.raises(SlaRulesError, match="now"):
        engine.advance(datetime(2026, 3, 2, 10))
    with pytest.raises(KeyError, match="T-2"):
        engine.clocks("T-2", utc("2026-03-02T10:00:00Z"))


def test_a_condition_that_cannot_be_timed_is_a_policy_error() -> None:
    with pytest.raises(PolicyValidationError, match="SLA308"):
        Engine.from_text(
            POLICY + 'trigger "x" when resolution.remaining < first_response.elapsed then notify'
        )


def test_a_calendar_that_never_opens_again_stops_time_not_the_engine(events: Events) -> None:
    engine = Engine.from_text(
        """
        calendar once { timezone "UTC"  hours 2026-03-02 09:00-10:00 }
        policy "P" { applies when true  calendar once  first_response within 2h }
        trigger "t" when first_response.elapsed > 30m then notify every 1h
        """
    )
    assert engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z")) == []
    fired = engine.advance(utc("2026-03-03T00:00:00Z"))
    assert [a.at for a in fired] == [utc("2026-03-02T09:30:00.000001Z")]
    assert engine.next_wakeup() is None  # no repeat and no breach can ever come
    [first] = engine.clocks("T-1", utc("2026-03-05T00:00:00Z"))
    assert (first.state.value, first.elapsed, first.due_at) == ("running", HOUR, None)


def test_an_update_of_one_nested_field_keeps_the_others() -> None:
    engine = Engine.from_text(
        """
        policy "EMEA gold" {
            applies when custom.region == "EMEA" and custom.tier == "gold"
            calendar always
            first_response within 1h
        }
        policy "Other" { applies when true  calendar always  first_response within 8h }
        """,
        entry_points=False,
    )
    start = utc("2026-03-02T09:00:00Z")
    engine.ingest({"id": "c", "ticket": "T", "type": "ticket.created", "at": start.isoformat(),
                   "fields": {"custom": {"region": "US", "tier": "gold"}}})  # fmt: skip
    engine.ingest({"id": "u", "ticket": "T", "type": "ticket.updated",
                   "at": (start + HOUR / 2).isoformat(),
                   "fields": {"custom": {"region": "EMEA"}}})  # fmt: skip
    [ticket] = engine.measure(start + HOUR)
    assert ticket.fields["custom"] == {"region": "EMEA", "tier": "gold"}
    assert ticket.clocks[0].policy == "EMEA gold"
    engine.ingest({"id": "n", "ticket": "T", "type": "ticket.updated",
                   "at": (start + HOUR).isoformat(), "fields": {"custom": None}})  # fmt: skip
    [ticket] = engine.measure(start + 2 * HOUR)
    assert ticket.fields["custom"] is None
    assert ticket.clocks[0].policy == "Other"


@pytest.mark.parametrize(
    ("condition", "turns_true"),
    [
        ("resolution.elapsed > 1h", "10:00:00.000001"),
        ("resolution.elapsed >= 1h", "10:00:00"),
        ("1h < resolution.elapsed", "10:00:00.000001"),
        ("1h <= resolution.elapsed", "10:00:00"),
        ("resolution.remaining < 1h", "12:00:00.000001"),
        ("resolution.remaining <= 1h", "12:00:00"),
        ("not (resolution.remaining > 1h)", "12:00:00"),
        ("not (resolution.remaining >= 1h)", "12:00:00.000001"),
        ("resolution.elapsed == 30m", "09:30:00"),
        ("resolution.percent >= 50%", "11:00:00"),
        ("resolution.percent > 50%", "11:00:00.000001"),
    ],
)
def test_a_threshold_fires_at_the_exact_microsecond_it_is_passed(
    events: Events, condition: str, turns_true: str
) -> None:
    engine = Engine.from_text(
        'policy "P" { applies when true  resolution within 4h }\n'
        f'trigger "t" when {condition} then notify\n'
    )
    engine.ingest(events.created("T-1", "2026-03-02T09:00:00Z"))
    (action,) = engine.advance(utc("2026-03-02T14:00:00Z"))
    assert action.at == utc(f"2026-03-02T{turns_true}Z")


def test_a_ticket_long_at_rest_is_kept_frozen_and_wakes_on_its_next_event(events: Events) -> None:
    engine = Engine.from_text(
        'policy "P" { applies when true  resolution within 4h  pause while status == "pending" }\n'
        'trigger "late" when resolution.overdue then notify "lead"\n'
    )

    def rest(ticket: str) -> None:
        opened = events.created(ticket, "2026-03-02T09:00:00Z")
        engine.ingest_many(
            [opened, events.updated(ticket, "2026-03-02T10:00:00Z", status="pending")]
        )

    rest("T-1")
    # Paused, with nothing due: only an event can move it. It stays thawed while it is among
    # the latest tickets to rest, which most often take their next event soon...
    assert isinstance(engine._tickets["T-1"].state, TicketState)
    others = [f"T-{number}" for number in range(2, 2 + engine_module._THAWED_AT_REST)]
    for ticket in others:
        rest(ticket)
    # ...and is frozen once as many others came to rest after it.
    assert isinstance(engine._tickets["T-1"].state, bytes)
    assert isinstance(engine._tickets[others[0]].state, TicketState)
    assert engine.next_wakeup() is None
    [clock] = engine.clocks("T-1", utc("2026-03-02T20:00:00Z"))
    assert (clock.state, clock.elapsed) == (ClockState.PAUSED, HOUR)
    assert isinstance(engine._tickets["T-1"].state, bytes)  # reading leaves it at rest

    engine.ingest(events.updated("T-1", "2026-03-03T09:00:00Z", status="open"))
    assert not isinstance(engine._tickets["T-1"].state, bytes)
    assert engine.next_wakeup() == utc("2026-03-03T12:00:00.000001Z")
    [action] = engine.advance(utc("2026-03-03T13:00:00Z"))
    assert (action.trigger, action.at) == ("late", utc("2026-03-03T12:00:00.000001Z"))


def test_measuring_since_an_instant_leaves_out_the_tickets_over_before_it(events: Events) -> None:
    engine = Engine.from_text(POLICY, entry_points=False)
    monday = utc("2026-03-02T09:00:00Z")
    for ticket, created, solved in [
        ("old and solved", monday, monday + HOUR),
        ("old and open", monday, None),
        ("recent and solved", monday + 30 * HOUR, monday + 31 * HOUR),
    ]:
        engine.ingest(events.created(ticket, created, status="open"))
        engine.ingest(events.agent_reply(ticket, created + HOUR / 2))
        if solved is not None:
            engine.ingest(events.updated(ticket, solved, status="solved"))
    now = monday + 48 * HOUR
    engine.advance(now)
    everything = {measured.ticket: measured for measured in engine.measure(now)}
    in_view = {measured.ticket: measured for measured in engine.measure(now, since=now - 25 * HOUR)}
    assert sorted(in_view) == ["old and open", "recent and solved"]
    assert all(measured == everything[ticket] for ticket, measured in in_view.items())
    # Before it was solved, a ticket was open, whatever its later events say.
    earlier = monday + 50 * MINUTE
    [first, *_] = engine.measure(earlier, since=earlier - 10 * MINUTE)
    assert first.ticket == "old and solved"
    assert any(clock.stopped_at is None for clock in first.clocks)
