"""Properties of the engine over random valid policy files and random ticket histories.

Whatever a valid file says (schedules of figures over the tickets included, except where the
arrival order matters: a run counts what the engine knows when it comes) and whatever fields the
events carry:

* the engine never fails: no event is rejected, no timer sets a ticket aside, and every ticket's
  clocks and explanation can be read;
* events ingested one by one in any arrival order, the host's clock moving in between, end with
  the clocks of a replay sorted by time, no action key is returned twice, and none of the
  replay's actions is missing;
* ``next_wakeup()`` is never later than the first instant at which ``advance`` returns an action;
* an engine restored from its snapshot (through JSON, as a store keeps it) goes on with the
  actions and clocks of one never stopped;
* an explanation shows each clock start, pause, resume and end at the instants the clock says,
  and its elapsed time is the business time between them;
* skipping what cannot have changed (triggers whose inputs stood still, policies and conditions
  on fields at a step whose fields did not change) gives the actions, clocks and explanations of
  asking everything at every step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

from engine_helpers import (
    freezing_tickets_at_rest,
    skip_where_the_core_is_compiled,
    step_through_wakeups,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from random_policies import END, START, histories, policy_files

from slarules import Action, Clock, ClockState, Engine, EngineState
from slarules._program import Program
from slarules._ticket import _Step


@contextmanager
def no_engine_errors() -> Iterator[None]:
    """Fail if the engine logs an error: what it does when it sets a ticket aside."""
    logged: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = logged.append  # type: ignore[method-assign]
    logger = logging.getLogger("slarules.engine")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert [record.getMessage() for record in logged] == []


def _time_order(event: dict[str, Any]) -> tuple[str, bool, str]:
    return (event["at"], event["type"] != "ticket.created", event["id"])


@settings(max_examples=100, deadline=None)
@given(policy_files(), histories(), st.randoms(use_true_random=False), st.data())
def test_any_valid_policy_file_ends_like_a_sorted_replay_whatever_the_arrival_order(
    policies: str, events: list[dict[str, Any]], random: Any, data: st.DataObject
) -> None:
    arrival = list(events)
    random.shuffle(arrival)
    minutes = data.draw(st.lists(st.integers(0, 6 * 24 * 60), max_size=len(arrival)))
    host_clock = sorted(START + timedelta(minutes=m) for m in minutes)

    with no_engine_errors():
        # One engine freezes tickets as they come to rest, the other keeps them thawed.
        incremental = Engine.from_text(policies, entry_points=False)
        returned: list[Action] = []
        with freezing_tickets_at_rest():
            for position, event in enumerate(arrival):
                returned += incremental.ingest(event)
                if position < len(host_clock):
                    returned += incremental.advance(host_clock[position])
            returned += incremental.advance(END)

        replayed = Engine.from_text(policies, entry_points=False)
        in_order = replayed.ingest_many(sorted(events, key=_time_order))
        in_order += replayed.advance(END)

        assert incremental.rejected == []
        assert replayed.rejected == []
        for ticket in replayed.tickets():
            assert incremental.clocks(ticket, END) == replayed.clocks(ticket, END)
            assert incremental.explain(ticket, END) is not None
        assert len(list(replayed.measure(END))) == len(replayed.tickets())
    keys = [action.key for action in returned]
    assert len(keys) == len(set(keys))
    assert {action.key for action in in_order} <= set(keys)


@settings(max_examples=60, deadline=None)
@given(policy_files(schedules=True), histories())
def test_next_wakeup_is_never_later_than_the_next_action_of_any_valid_policy_file(
    policies: str, events: list[dict[str, Any]]
) -> None:
    with no_engine_errors():
        engine = Engine.from_text(policies, entry_points=False)
        engine.ingest_many(events)
        step_through_wakeups(engine, END)


@settings(max_examples=60, deadline=None)
@given(policy_files(schedules=True), histories(), st.lists(st.integers(0, 6 * 24 * 60), max_size=4))
def test_what_the_engine_skips_could_not_have_changed_under_any_valid_policy_file(
    policies: str, events: list[dict[str, Any]], host_minutes: list[int]
) -> None:
    skip_where_the_core_is_compiled()
    host_clock = iter(sorted(START + timedelta(minutes=m) for m in host_minutes))

    def run() -> tuple[list[Action], dict[str, Any]]:
        engine = Engine.from_text(policies, entry_points=False)
        returned = []
        for event in events:
            returned += engine.ingest(event)
            returned += engine.advance(next(host_clock, START))
        returned += engine.advance(END)
        seen = {ticket: (engine.clocks(ticket, END), engine.explain(ticket, END))
                for ticket in engine.tickets()}  # fmt: skip
        return returned, seen

    with no_engine_errors():
        skipping = run()
        host_clock = iter(sorted(START + timedelta(minutes=m) for m in host_minutes))
        with (
            mock.patch.object(_Step, "_may_change", return_value=True),
            mock.patch.object(Program, "settled_without_events", False),
        ):
            asking_everything = run()
    assert skipping == asking_everything


@settings(max_examples=60, deadline=None)
@given(policy_files(schedules=True), histories(), st.data())
def test_an_engine_restored_from_its_snapshot_goes_on_like_one_never_stopped(
    policies: str, events: list[dict[str, Any]], data: st.DataObject
) -> None:
    stop = data.draw(st.integers(0, len(events)), label="events before the restart")
    now = START + timedelta(minutes=data.draw(st.integers(0, 6 * 24 * 60), label="minutes"))
    with no_engine_errors():
        steady = Engine.from_text(policies, entry_points=False)
        before = steady.ingest_many(events[:stop]) + steady.advance(now)
        steady_after = steady.ingest_many(events[stop:]) + steady.advance(END)

        stopped = Engine.from_text(policies, entry_points=False)
        assert stopped.ingest_many(events[:stop]) + stopped.advance(now) == before
        saved = EngineState.model_validate_json(stopped.snapshot().model_dump_json())
        restored = Engine.restore(stopped.policies, saved)
        with freezing_tickets_at_rest():
            assert restored.ingest_many(events[stop:]) + restored.advance(END) == steady_after
        for ticket in steady.tickets():
            assert restored.clocks(ticket, END) == steady.clocks(ticket, END)


def _subject(clock: Clock) -> str:
    node = f" in `{clock.node}`" if clock.node else ""
    return f"{clock.metric} #{clock.cycle}{node}"


@settings(max_examples=60, deadline=None)
@given(policy_files(), histories(), st.integers(0, 6 * 24 * 60))
def test_an_explanation_accounts_for_every_clock_it_shows(
    policies: str, events: list[dict[str, Any]], minutes: int
) -> None:
    """Each clock starts, pauses, resumes and ends in the explanation at the instants it shows,
    and its elapsed time is the business time between them in its policy's calendar."""
    now = START + timedelta(minutes=minutes)
    engine = Engine.from_text(policies, entry_points=False)
    engine.ingest_many(events)
    for ticket in engine.tickets():
        explanation = engine.explain(ticket, now)
        assert explanation.clocks == tuple(engine.clocks(ticket, now))
        for clock in explanation.clocks:
            changes = [
                (t.at, t.change) for t in explanation.transitions if t.subject == _subject(clock)
            ]
            assert changes[0] == (clock.started_at, "started")
            ends = [(at, change) for at, change in changes if change in ("stopped", "cancelled")]
            assert [at for at, _ in ends] == (
                [] if clock.stopped_at is None else [clock.stopped_at]
            )
            if ends:
                assert (ends[0][1] == "cancelled") == (clock.state is ClockState.CANCELLED)
            moves = [(at, change) for at, change in changes if change in ("paused", "resumed")]
            assert [change for _, change in moves] == ["paused", "resumed"] * (len(moves) // 2) + (
                ["paused"] if len(moves) % 2 else []
            )
            paused = bool(moves) and moves[-1][1] == "paused" and not ends
            assert paused == (clock.state is ClockState.PAUSED)
            calendar_name = engine.policies.policies[clock.policy].calendar
            calendar = engine.policies.calendars[
                calendar_name.path[0] if calendar_name else "always"
            ]
            running, since = timedelta(0), clock.started_at
            for at, change in [*moves, *ends]:
                if change == "resumed":
                    since = at
                elif since is not None:
                    running += calendar.between(since, at)
                    since = None
            if since is not None:
                running += calendar.between(since, now)
            assert clock.elapsed == running
