"""Schedules: cron times in their time zone across DST, and report conditions run by the engine."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slarules import Engine
from slarules._instants import from_micros, to_micros
from slarules._program import ScheduleProgram
from slarules.runtime import Runtime
from slarules.schedules import next_run
from slarules.store import open_store

S = timedelta(seconds=1)
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def schedule_of(text: str) -> Engine:
    return Engine.from_text(text, entry_points=False)


def runs(cron: str, timezone: str, after: datetime, count: int) -> list[str]:
    engine = schedule_of(f'schedule "s" every "{cron}" in "{timezone}" {{ then log "x" }}')
    schedule = engine._program.schedules[0]
    found, at = [], to_micros(after)
    for _ in range(count):
        at = next_run(schedule, at)
        found.append(from_micros(at).isoformat())
    return found


def test_a_time_skipped_by_spring_forward_runs_at_the_change() -> None:
    # Berlin, 2026-03-29: 02:00 local jumps to 03:00 (01:00 UTC); 02:30 does not exist.
    assert runs("30 2 * * *", "Europe/Berlin", datetime(2026, 3, 27, 12, tzinfo=UTC), 3) == [
        "2026-03-28T01:30:00+00:00",
        "2026-03-29T01:00:00+00:00",
        "2026-03-30T00:30:00+00:00",
    ]


def test_a_time_repeated_by_fall_back_runs_once() -> None:
    # Berlin, 2026-10-25: 03:00 local goes back to 02:00 (01:00 UTC).
    assert runs("*/30 * * * *", "Europe/Berlin", datetime(2026, 10, 24, 23, 10, tzinfo=UTC), 5) == [
        "2026-10-24T23:30:00+00:00",  # 01:30 +02:00
        "2026-10-25T00:00:00+00:00",  # 02:00 +02:00
        "2026-10-25T00:30:00+00:00",  # 02:30 +02:00; the second 02:00 and 02:30 do not run
        "2026-10-25T02:00:00+00:00",  # 03:00 +01:00
        "2026-10-25T02:30:00+00:00",
    ]


def test_weekday_hours_in_new_york_follow_its_offset() -> None:
    # US DST starts 2026-03-08: 9:00 on Friday is 14:00 UTC, on Monday 13:00 UTC.
    assert runs("0 9 * * mon-fri", "America/New_York", datetime(2026, 3, 6, tzinfo=UTC), 2) == [
        "2026-03-06T14:00:00+00:00",
        "2026-03-09T13:00:00+00:00",
    ]


CALL_CENTER = """
policy "calls" { applies when true  calendar always  answer within 20s }

schedule "phone service level" every "*/15 * * * *" in "Europe/Berlin" {
    when service_level(answer, 20s, window 1h, short_abandon 5s) < 80%
    then log "supervisors: service level below 80%"
}

schedule "slow answers" every "0 * * * *" {
    when average_speed_of_answer(answer, window 1h) > 30s
    then log "slow"
}
"""


def call(engine: Engine, name: str, offered: datetime, wait: int, answered: bool) -> None:
    engine.ingest({"id": f"{name}-o", "ticket": name, "type": "contact.offered",
                   "at": offered.isoformat()})  # fmt: skip
    kind = "contact.answered" if answered else "contact.abandoned"
    engine.ingest({"id": f"{name}-e", "ticket": name, "type": kind,
                   "at": (offered + wait * S).isoformat()})  # fmt: skip


def test_the_service_level_check_fires_at_each_cron_time_it_holds() -> None:
    engine = schedule_of(CALL_CENTER)
    call(engine, "C1", MONDAY, 10, answered=True)
    call(engine, "C2", MONDAY + 60 * S, 18, answered=True)
    call(engine, "C3", MONDAY + 120 * S, 4, answered=False)  # a short abandon: left out
    assert engine.next_wakeup() == MONDAY + timedelta(minutes=15)
    assert engine.advance(MONDAY + timedelta(minutes=15)) == []  # 2 of 2 within 20 s
    call(engine, "C4", MONDAY + timedelta(minutes=20), 40, answered=False)
    call(engine, "C5", MONDAY + timedelta(minutes=21), 50, answered=True)
    # At 09:30: 2 within 20 s of 4 counted (the 40 s abandon is missed): 50 %.
    actions = engine.advance(MONDAY + timedelta(minutes=45))
    assert [(a.trigger, a.at) for a in actions] == [
        ("phone service level", MONDAY + timedelta(minutes=30)),
        ("phone service level", MONDAY + timedelta(minutes=45)),
    ]
    assert engine.stats.actions == 2  # counted, as a trigger's actions are
    first = actions[0]
    assert first.ticket == ""
    assert first.args == ("supervisors: service level below 80%",)
    assert first.key == "schedule/phone service level/2026-03-02T09:30:00+00:00/0"
    assert "holds at 2026-03-02T10:30:00+01:00" in first.reason
    # At 10:00 the hour check runs too: mean answer (10 + 18 + 50) / 3 = 26 s, under 30 s.
    assert [a.trigger for a in engine.advance(MONDAY + timedelta(hours=1))] == [
        "phone service level"
    ]
    # At 10:15 the hour still holds the calls of 09:20 and 09:21; from 10:30 it is empty: no
    # data, so the condition does not hold.
    assert [a.at for a in engine.advance(MONDAY + timedelta(hours=1, minutes=15))] == [
        MONDAY + timedelta(hours=1, minutes=15)
    ]
    assert engine.advance(MONDAY + timedelta(hours=3)) == []


def test_the_abandonment_rate_leaves_out_short_abandons_when_asked() -> None:
    engine = schedule_of(
        'policy "calls" { applies when true  calendar always  answer within 20s }\n'
        'schedule "abandons" every "*/30 * * * *" {\n'
        "    when abandonment_rate(answer, window 1h, short_abandon 5s) > 40%\n"
        '    then log "abandons, misdials left out"\n}\n'
        'schedule "every abandon" every "*/30 * * * *" {\n'
        '    when abandonment_rate(answer, window 1h) > 40% then log "abandons"\n}'
    )
    call(engine, "C1", MONDAY, 10, answered=True)
    call(engine, "C2", MONDAY + 60 * S, 30, answered=True)
    call(engine, "C3", MONDAY + 120 * S, 3, answered=False)  # a misdial
    call(engine, "C4", MONDAY + 180 * S, 40, answered=False)
    # Of the four, two abandoned (50 %); leaving out the 3 s one, one of three (33 %).
    actions = engine.advance(MONDAY + timedelta(minutes=30))
    assert [action.trigger for action in actions] == ["every abandon"]


def test_schedule_runs_come_once_across_a_snapshot_and_restore() -> None:
    engine = schedule_of(CALL_CENTER)
    call(engine, "C1", MONDAY, 45, answered=True)
    given = engine.advance(MONDAY + timedelta(minutes=30))
    assert len(given) == 2
    restored = Engine.restore(engine.policies, engine.snapshot(), plugins=engine.plugins)
    assert restored.next_wakeup() == MONDAY + timedelta(minutes=45)
    again = restored.advance(MONDAY + timedelta(minutes=45))
    assert [a.at for a in again] == [MONDAY + timedelta(minutes=45)]


def test_compliance_and_breaches_over_a_window() -> None:
    engine = schedule_of(
        """
        policy "p" { applies when true  calendar always  first_response within 1h }
        schedule "compliance" every "0 12 * * *" {
            when compliance(first_response, window 1d) < 95% and breaches(first_response) >= 1
            then log "compliance below 95%"
        }
        """
    )
    for number, reply_after in enumerate([30, 50, 90]):  # minutes; the last one is late
        ticket, created = f"T{number}", MONDAY + number * 60 * S
        engine.ingest({"id": f"{ticket}-c", "ticket": ticket, "type": "ticket.created",
                       "at": created.isoformat()})  # fmt: skip
        engine.ingest({"id": f"{ticket}-r", "ticket": ticket, "type": "ticket.replied",
                       "at": (created + timedelta(minutes=reply_after)).isoformat(),
                       "actor": {"role": "agent"}, "public": True})  # fmt: skip
    actions = engine.advance(MONDAY + timedelta(days=1))
    assert [(a.trigger, a.at) for a in actions] == [("compliance", MONDAY.replace(hour=12))]


def test_a_ticket_action_in_a_schedule_fails_with_a_reason_not_an_exception() -> None:
    engine = Engine.from_text(
        """
        schedule "nudge" every "0 * * * *" { then notify group "supervisors" }
        policy "p" { applies when true  calendar always  first_response within 1h }
        """,
    )
    engine.ingest({"id": "c", "ticket": "T", "type": "ticket.created", "at": MONDAY.isoformat()})
    actions = engine.advance(MONDAY + timedelta(hours=1))
    [delivery] = engine.execute(actions)
    assert not delivery.ok
    assert delivery.permanent
    assert "schedule `nudge`" in (delivery.error or "")


@pytest.mark.parametrize("formula", ["abandoned_excluded", "abandoned_within_met"])
def test_the_formula_option_reaches_the_figures(formula: str) -> None:
    engine = schedule_of(
        """
        policy "calls" { applies when true  calendar always  answer within 20s }
        schedule "sl" every "0 * * * *" {
            when service_level(answer, 20s, formula "FORMULA") >= 100%
            then log "all in time"
        }
        """.replace("FORMULA", formula)
    )
    call(engine, "C1", MONDAY, 10, answered=True)
    call(engine, "C2", MONDAY + 60 * S, 12, answered=False)  # abandoned within 20 s
    # Both formulas forgive an abandon within the threshold; the default would say 50 %.
    assert len(engine.advance(MONDAY + timedelta(hours=1))) == 1


def test_the_durable_runtime_runs_schedules_once_across_a_restart(tmp_path: Path) -> None:
    policy = tmp_path / "calls.sla"
    policy.write_text(CALL_CENTER, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'slarules.db'}"
    clock = [MONDAY]
    runtime = Runtime.open(policy, open_store(url), clock=lambda: clock[0])
    runtime.ingest({"id": "o", "ticket": "C1", "type": "contact.offered", "at": MONDAY.isoformat()})
    runtime.ingest({"id": "e", "ticket": "C1", "type": "contact.answered",
                    "at": (MONDAY + 45 * S).isoformat()})  # fmt: skip
    clock[0] = MONDAY + timedelta(minutes=20)
    assert [a.trigger for a in runtime.advance()] == ["phone service level"]
    [delivery] = runtime.deliver_due()
    assert delivery.ok, delivery.error  # `log` needs no ticket
    runtime.close()
    clock[0] = MONDAY + timedelta(minutes=35)
    restarted = Runtime.open(policy, open_store(url), clock=lambda: clock[0])
    assert [a.at for a in restarted.advance()] == [MONDAY + timedelta(minutes=30)]
    assert [d.action.at for d in restarted.deliver_due()] == [MONDAY + timedelta(minutes=30)]
    keys = [entry.action.key for entry in restarted.store.outbox()]
    assert len(keys) == len(set(keys)) == 2
    restarted.close()


def test_a_new_service_does_not_run_the_cron_times_before_it_started(tmp_path: Path) -> None:
    policy = tmp_path / "calls.sla"
    policy.write_text(CALL_CENTER, encoding="utf-8")
    started = MONDAY + timedelta(days=7)
    runtime = Runtime.open(policy, open_store("memory://"), clock=lambda: started)
    # A backfill of last Monday's calls: clocked exactly, but no week of quarter-hourly alerts.
    runtime.ingest({"id": "o", "ticket": "C1", "type": "contact.offered", "at": MONDAY.isoformat()})
    runtime.ingest({"id": "e", "ticket": "C1", "type": "contact.answered",
                    "at": (MONDAY + 45 * S).isoformat()})  # fmt: skip
    assert runtime.advance() == []
    assert runtime.engine.next_wakeup() == started + timedelta(minutes=15)
    [clock] = runtime.engine.clocks("C1", started)
    assert clock.elapsed == 45 * S


def test_a_schedule_measures_only_as_far_back_as_its_windows() -> None:
    lookbacks = {
        schedule.name: schedule.lookback
        for schedule in schedule_of(
            CALL_CENTER
            + """
            schedule "ever" every "0 12 * * *" {
                when compliance(answer, window 1d) < 95% or breaches(answer) >= 1
                then log "x"
            }
            schedule "always" every "0 12 * * *" { then log "x" }
            """
        )._program.schedules
    }
    hour = 3_600_000_000
    assert lookbacks == {
        "phone service level": hour,
        "slow answers": hour,
        "ever": None,  # breaches() with no window counts every clock
        "always": 0,
    }


def test_measuring_only_the_window_fires_as_measuring_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(7)
    calls = [
        (f"C{number}", MONDAY + timedelta(minutes=rng.randrange(3 * 24 * 60)),
         rng.choice([3, 12, 19, 25, 45, 90]), rng.random() < 0.8)
        for number in range(300)
    ]  # fmt: skip
    calls.sort(key=lambda item: item[1])

    def fired() -> list[tuple[str, datetime]]:
        engine = schedule_of(CALL_CENTER)
        for name, offered, wait, answered in calls:
            call(engine, name, offered, wait, answered)
        return [(a.trigger, a.at) for a in engine.advance(MONDAY + timedelta(days=3))]

    windowed = fired()
    monkeypatch.setattr(ScheduleProgram, "lookback", property(lambda schedule: None))
    assert fired() == windowed
    assert len(windowed) > 10
