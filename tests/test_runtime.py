"""The durable runtime: input is stored before it is acknowledged, timers and deliveries carry on
after a restart, failures retry with backoff and end as dead letters, nothing is sent twice."""

from __future__ import annotations

import dataclasses
import json
import random
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from engine_helpers import HOUR, MINUTE, SECOND, Events, FakeClock, break_steps, utc

from slarules import Action, EventError, PluginError
from slarules.runtime import Backoff, Runtime
from slarules.specs import ActionContext, InboundRequest
from slarules.store import SqliteStore
from slarules.testing import RecordingPlugin

START = utc("2026-03-02T09:00:00Z")
POLICY = """
policy "All" {
    applies when true
    first_response within 1h
}
trigger "late" when first_response.breached then tag "late"
trigger "very late" when first_response.elapsed > 3h then notify "duty-manager"
"""


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "support.sla"
    path.write_text(POLICY)
    return path


def open_runtime(
    policy_file: Path,
    database: Path,
    clock: FakeClock,
    recorder: RecordingPlugin,
    **options: object,
) -> Runtime:
    return Runtime.open(
        policy_file,
        SqliteStore(database),
        plugins=[recorder],
        clock=clock,
        rng=random.Random(7),
        **options,  # type: ignore[arg-type]
    )


def test_a_restart_carries_on_timers_and_deliveries_without_repeating_any(
    policy_file: Path, tmp_path: Path
) -> None:
    database, clock, events = tmp_path / "slarules.db", FakeClock(START), Events()
    recorder = RecordingPlugin()
    runtime = open_runtime(policy_file, database, clock, recorder)
    runtime.ingest(events.created("T-1", START), source="recorder")
    runtime.ingest(events.created("T-2", START + 30 * MINUTE), source="recorder")
    clock.now = START + 2 * HOUR
    assert [a.ticket for a in runtime.advance()] == ["T-1", "T-2"]
    assert [d.ok for d in runtime.deliver_due()] == [True, True]
    runtime.close()  # the process ends here; T-1's "very late" timer is pending

    recorder_after = RecordingPlugin()
    clock.now = START + 4 * HOUR
    again = open_runtime(policy_file, database, clock, recorder_after)
    assert [(a.ticket, a.name) for a in again.advance()] == [("T-1", "notify"), ("T-2", "notify")]
    again.deliver_due()
    assert [(a.ticket, a.name) for a in recorder_after.executed] == [
        ("T-1", "notify"), ("T-2", "notify")
    ]  # fmt: skip
    assert recorder_after.breaches == []  # told before the restart
    assert again.engine.clocks("T-1", clock.now)[0].breached_at == START + HOUR


def advanced_past_a_failed_timer(
    policy_file: Path, database: Path, clock: FakeClock, events: Events, *, timers_only: bool
) -> Runtime:
    """A runtime with T-1 and T-2 created at START, advanced two hours on while every timer of
    T-1 fails (a bug), and with it its replays unless ``timers_only``."""
    runtime = open_runtime(policy_file, database, clock, RecordingPlugin())
    runtime.ingest(events.created("T-1", START), source="recorder")
    runtime.ingest(events.created("T-2", START), source="recorder")
    with pytest.MonkeyPatch.context() as broken:
        break_steps(broken, "T-1", timers_only=timers_only)
        clock.now = START + 2 * HOUR
        assert [a.ticket for a in runtime.advance()] == ["T-2"]
    return runtime


def test_what_came_due_while_a_ticket_timers_failed_is_sent_after_the_fixed_restart(
    policy_file: Path, tmp_path: Path
) -> None:
    database, clock, events = tmp_path / "slarules.db", FakeClock(START), Events()
    runtime = advanced_past_a_failed_timer(policy_file, database, clock, events, timers_only=True)
    with pytest.raises(EventError, match="failed on a timer of its ticket"):
        runtime.ingest(events.agent_reply("T-1", START + 2 * HOUR))
    runtime.deliver_due()
    runtime.close()

    recorder = RecordingPlugin()  # the fix, then a restart
    clock.now = START + 5 * HOUR
    again = open_runtime(policy_file, database, clock, recorder)
    given = again.advance()
    past = timedelta(microseconds=1)  # a target is breached once passed
    assert [(a.ticket, a.trigger, a.at) for a in given] == [
        ("T-1", "late", START + HOUR + past),
        ("T-1", "very late", START + 3 * HOUR + past),
        ("T-2", "very late", START + 3 * HOUR + past),
    ]
    again.deliver_due()
    assert [(a.ticket, a.name) for a in recorder.executed] == [
        ("T-1", "tag"), ("T-1", "notify"), ("T-2", "notify")
    ]  # fmt: skip
    [(number, _)] = again.store.rejected()
    again.retry_rejected([number])  # the reply the broken ticket could not take
    again.close()
    last = open_runtime(policy_file, database, clock, RecordingPlugin())
    assert last.advance() == []  # given once, and stored as given
    assert last.engine.timers_held_since("T-1") is None


def test_a_ticket_set_aside_by_a_failed_timer_is_restored_with_what_it_owes(
    policy_file: Path, tmp_path: Path
) -> None:
    database, clock = tmp_path / "slarules.db", FakeClock(START)
    # Its replay fails too: it is set aside.
    runtime = advanced_past_a_failed_timer(
        policy_file, database, clock, Events(), timers_only=False
    )
    assert runtime.engine.tickets() == ["T-2"]
    runtime.close()  # then the fix and a restart
    again = open_runtime(policy_file, database, clock, RecordingPlugin())
    assert [(a.ticket, a.trigger) for a in again.advance()] == [("T-1", "late")]


def test_actions_that_were_stored_but_not_delivered_go_out_after_a_restart(
    policy_file: Path, tmp_path: Path
) -> None:
    database, clock = tmp_path / "slarules.db", FakeClock(START)
    runtime = open_runtime(policy_file, database, clock, RecordingPlugin())
    runtime.ingest(Events().created("T-1", START), source="recorder")
    clock.now = START + 2 * HOUR
    runtime.advance()  # stored in the outbox; the process dies before delivering
    runtime.store.close()

    recorder = RecordingPlugin()
    again = open_runtime(policy_file, database, clock, recorder)
    assert again.advance() == []
    [delivery] = again.deliver_due()
    assert delivery.ok
    assert [a.args for a in recorder.executed] == [("late",)]
    assert again.deliver_due() == []


@dataclasses.dataclass
class SlowHelpdesk(RecordingPlugin):
    """A helpdesk that takes its time to answer, until told to."""

    busy: threading.Event = dataclasses.field(default_factory=threading.Event)
    answer: threading.Event = dataclasses.field(default_factory=threading.Event)

    def execute(self, action: Action, context: ActionContext) -> None:
        self.busy.set()
        self.answer.wait(30)
        super().execute(action, context)


def test_a_slow_helpdesk_delays_no_timer(policy_file: Path, tmp_path: Path) -> None:
    clock, events, helpdesk = FakeClock(START), Events(), SlowHelpdesk()
    runtime = open_runtime(policy_file, tmp_path / "slarules.db", clock, helpdesk)
    runtime.ingest(events.created("T-1", START), source="recorder")
    runtime.ingest(events.created("T-2", START + 30 * MINUTE), source="recorder")
    clock.now = START + HOUR + MINUTE  # T-1 is late: its tag is due
    stop = threading.Event()
    loop = threading.Thread(target=runtime.run, args=(stop,))
    loop.start()
    try:
        assert helpdesk.busy.wait(10), "T-1's tag was not sent"
        clock.now = START + 2 * HOUR  # T-2 is late too, while the helpdesk has not answered
        runtime.wake()
        deadline = time.monotonic() + 10
        while not any(entry.action.ticket == "T-2" for entry in runtime.store.outbox()):
            assert time.monotonic() < deadline, "T-2's breach waited for T-1's delivery"
            time.sleep(0.02)
    finally:
        helpdesk.answer.set()
        stop.set()
        runtime.wake()
        loop.join(30)
    assert not loop.is_alive()
    runtime.close()


def test_timers_due_and_not_fired_show_as_lag(policy_file: Path, tmp_path: Path) -> None:
    clock, events = FakeClock(START), Events()
    runtime = open_runtime(policy_file, tmp_path / "slarules.db", clock, RecordingPlugin())
    runtime.ingest(events.created("T-1", START))
    clock.now = START + HOUR + 5 * MINUTE  # the breach at 10:00 is due; no loop has fired it
    assert runtime.timers_late_by() == 5 * MINUTE - timedelta(microseconds=1)
    runtime.advance()
    assert runtime.timers_late_by() == 5 * MINUTE - timedelta(microseconds=1)  # how late it was
    clock.now = START + 2 * HOUR
    assert runtime.timers_late_by() == 5 * MINUTE - timedelta(microseconds=1)
    runtime.close()


def test_failures_retry_with_backoff_then_become_dead_letters(
    policy_file: Path, tmp_path: Path
) -> None:
    clock, recorder = FakeClock(START), RecordingPlugin(failing={"tag": 10})
    runtime = open_runtime(
        policy_file, tmp_path / "s.db", clock, recorder,
        max_attempts=3, backoff=Backoff(base=10.0, factor=2.0, cap=60.0),
    )  # fmt: skip
    runtime.ingest(Events().created("T-1", START), source="recorder")
    clock.now = START + 2 * HOUR
    runtime.advance()
    [first] = runtime.deliver_due()
    assert (first.ok, first.attempt) == (False, 1)
    [entry] = runtime.store.outbox("pending")
    # The recorder asks for 1 s; the first backoff is within [0, 10 s]; the later is used.
    assert clock.now + SECOND <= entry.next_attempt <= clock.now + 10 * SECOND
    assert runtime.deliver_due() == []  # not due yet
    clock.now = entry.next_attempt
    [second] = runtime.deliver_due()
    assert second.attempt == 2
    clock.now = runtime.store.outbox("pending")[0].next_attempt
    runtime.deliver_due()
    [dead] = runtime.dead_letters()
    assert (dead.attempts, dead.last_error) == (3, "`tag` is failing on purpose")
    assert runtime.next_deadline() == runtime.engine.next_wakeup()  # nothing left to deliver

    recorder.failing.clear()
    assert runtime.retry_dead() == 1
    [delivered] = runtime.deliver_due()
    assert delivered.ok
    assert [a.name for a in recorder.executed] == ["tag"]


def test_permanent_failures_are_dead_letters_at_once(policy_file: Path, tmp_path: Path) -> None:
    clock = FakeClock(START)
    runtime = open_runtime(policy_file, tmp_path / "s.db", clock, RecordingPlugin())
    runtime.ingest(Events().created("T-1", START))  # no adapter feeds it: `tag` cannot work
    clock.now = START + 2 * HOUR
    runtime.advance()
    runtime.deliver_due()
    [dead] = runtime.dead_letters()
    assert dead.attempts == 1
    assert "no adapter feeds that ticket" in (dead.last_error or "")


def test_rejected_input_is_stored_and_can_be_retried(policy_file: Path, tmp_path: Path) -> None:
    database, clock, events = tmp_path / "s.db", FakeClock(START), Events()
    runtime = open_runtime(policy_file, database, clock, RecordingPlugin())
    bad = {**events.created("T-1", START), "type": "ticket.opened"}
    with pytest.raises(EventError):
        runtime.ingest(bad)
    runtime.store.close()
    again = open_runtime(policy_file, database, clock, RecordingPlugin())
    [(rejected_id, rejected)] = again.store.rejected()
    assert rejected.payload == bad
    again.retry_rejected([rejected_id])
    assert len(again.store.rejected()) == 1  # still bad: kept (once)
    assert again.engine.rejected == []


def test_a_request_to_an_adapter_that_cannot_start_is_stored_and_taken_once_it_can(
    policy_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database, clock = tmp_path / "s.db", FakeClock(START)
    unstarted = RecordingPlugin()

    def missing_setting(settings: object) -> RecordingPlugin:
        raise PluginError("`SLARULES_RECORDER_TOKEN`: required")

    monkeypatch.setattr(unstarted, "_create", missing_setting)
    runtime = open_runtime(policy_file, database, clock, unstarted)
    body = json.dumps(Events().created("T-1", START)).encode()
    sent = InboundRequest(body=body, received_at=START, query={"token": "t"})
    with pytest.raises(PluginError, match="SLARULES_RECORDER_TOKEN"):
        runtime.receive("recorder", sent)
    runtime.close()
    again = open_runtime(policy_file, database, clock, RecordingPlugin())
    [(number, kept)] = again.store.rejected()
    assert (kept.stage, kept.request()) == ("adapter", sent)
    again.retry_rejected([number])
    assert (again.store.rejected(), again.engine.tickets()) == ([], ["T-1"])


def test_an_event_the_engine_fails_on_is_stored_as_rejected_and_not_replayed_at_restart(
    policy_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database, clock, events = tmp_path / "s.db", FakeClock(START), Events()
    runtime = open_runtime(policy_file, database, clock, RecordingPlugin())
    runtime.ingest(events.created("T-1", START))
    break_steps(monkeypatch, "T-2", error=RecursionError("a bug"))
    with pytest.raises(EventError, match="the engine failed on it"):
        runtime.ingest(events.created("T-2", START))
    runtime.close()
    again = open_runtime(policy_file, database, clock, RecordingPlugin())  # still broken
    assert again.engine.tickets() == ["T-1"]
    [(number, kept)] = again.store.rejected()
    assert "RecursionError: a bug" in kept.reason
    monkeypatch.undo()
    again.retry_rejected([number])
    assert (again.engine.tickets(), again.store.rejected()) == (["T-1", "T-2"], [])


def test_events_survive_a_restart_and_give_the_same_clocks(
    policy_file: Path, tmp_path: Path
) -> None:
    database, clock, events = tmp_path / "s.db", FakeClock(START), Events()
    runtime = open_runtime(policy_file, database, clock, RecordingPlugin())
    runtime.ingest(events.created("T-1", START))
    runtime.ingest(events.agent_reply("T-1", START + 20 * MINUTE))
    runtime.ingest(events.agent_reply("T-1", START + 20 * MINUTE))  # a new id: stored
    before = runtime.engine.clocks("T-1", START + HOUR)
    runtime.store.close()
    again = open_runtime(policy_file, database, clock, RecordingPlugin())
    assert again.engine.clocks("T-1", START + HOUR) == before
    assert before[0].elapsed == timedelta(minutes=20)


def test_actions_too_old_to_send_become_dead_letters_that_can_still_be_sent(
    policy_file: Path, tmp_path: Path
) -> None:
    """A backfill of last week's events breaches last week: nobody is told a week late, unless
    an operator asks for it."""
    clock, recorder = FakeClock(START + 7 * 24 * HOUR), RecordingPlugin()
    runtime = open_runtime(policy_file, tmp_path / "s.db", clock, recorder)
    runtime.ingest(Events().created("T-1", START), source="recorder")
    runtime.ingest(Events().created("T-2", clock.now - 2 * HOUR), source="recorder")
    runtime.advance()
    delivered = runtime.deliver_due()
    # T-2 breached an hour ago: still told. T-1's breach and escalation are a week old.
    assert [(d.action.ticket, d.action.name) for d in delivered] == [("T-2", "tag")]
    expired = runtime.dead_letters()
    assert [(e.action.ticket, e.action.name) for e in expired] == [
        ("T-1", "tag"),
        ("T-1", "notify"),
    ]
    assert (expired[0].last_error or "").startswith("expired: due at 2026-03-02T10:00:00")
    assert runtime.retry_dead() == 2
    assert all(sent.ok for sent in runtime.deliver_due())
    assert [(a.ticket, a.name) for a in recorder.executed] == [
        ("T-2", "tag"), ("T-1", "tag"), ("T-1", "notify")
    ]  # fmt: skip
