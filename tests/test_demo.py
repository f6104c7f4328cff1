"""`slarules demo`: a seeded day of a support centre through the bundled example policy file."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from slarules import Engine
from slarules.cli import main
from slarules.clocks import ClockState
from slarules.demo import generate_day, run_demo
from slarules.examples import example_policy_path, example_policy_text
from slarules.store import open_store

DAY = date(2026, 3, 4)


def test_the_example_policy_file_is_as_large_as_the_benchmark_needs() -> None:
    policies = Engine.from_file(example_policy_path()).policies
    assert example_policy_text().startswith("# The example policy file")
    assert len(policies.policies) >= 6
    assert len(policies.triggers) >= 6
    targeted = {t.metric for p in policies.policies.values() for t in p.targets}
    targeted |= {"node_response", "node_handling"}
    assert len(targeted) >= 8


def test_a_generated_day_is_the_same_for_the_same_seed() -> None:
    first, again, other = generate_day(3, DAY), generate_day(3, DAY), generate_day(4, DAY)
    assert first.events == again.events
    assert first.events != other.events


def test_a_generated_day_has_every_kind_of_event_and_late_deliveries() -> None:
    day = generate_day(7, DAY)
    kinds = Counter(event["type"] for event in day.events)
    assert set(kinds) == {
        "ticket.created",
        "ticket.updated",
        "ticket.replied",
        "contact.offered",
        "contact.answered",
        "contact.abandoned",
    }
    written = [datetime.fromisoformat(event["at"]) for event in day.events]
    assert day.late > 0
    assert written != sorted(written)  # arrival order is not time order
    assert all(arrival >= at for arrival, at in zip(day.arrivals, written, strict=True))
    tiers = {e["fields"]["customer"]["tier"] for e in day.events if e["type"] == "ticket.created"}
    assert tiers == {"enterprise", "business", "standard"}


def test_calls_ring_while_the_line_is_open_and_some_callers_give_up() -> None:
    day = generate_day(7, DAY)
    offered = {e["ticket"]: e for e in day.events if e["type"] == "contact.offered"}
    berlin = ZoneInfo("Europe/Berlin")
    assert all(
        time(8) <= datetime.fromisoformat(e["at"]).astimezone(berlin).time() < time(20)
        for e in offered.values()
    )
    waits = [
        datetime.fromisoformat(e["at"]) - datetime.fromisoformat(offered[e["ticket"]]["at"])
        for e in day.events
        if e["type"] == "contact.abandoned"
    ]
    assert any(wait <= timedelta(seconds=5) for wait in waits)
    assert any(wait >= timedelta(seconds=40) for wait in waits)


def test_the_demo_run_gives_clocks_actions_and_a_compliance_summary(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'demo.db'}"
    run = run_demo(7, DAY, store)
    assert run.rejected == 0
    metrics = {row.group["metric"]: row for row in run.report.rows}
    assert {"first_response", "answer", "node_response", "service"} <= set(metrics)
    answer = [clock for clock in run.clocks if clock.metric == "answer"]
    assert len(answer) == 140
    assert metrics["answer"].met == sum(c.state is ClockState.MET for c in answer)
    assert {action.name for action in run.actions} >= {"notify", "urge", "warn"}
    assert len({action.key for action in run.actions}) == len(run.actions)
    calls = run.calls
    assert calls.offered + calls.short_abandoned == 140
    assert calls.answered + calls.abandoned + calls.short_abandoned + calls.waiting == 140
    assert calls.abandoned + calls.short_abandoned == metrics["answer"].cancelled
    assert 0 < calls.short_abandoned < calls.abandoned + calls.short_abandoned
    assert run.restart_equal
    assert run.outbox == len(run.actions)  # nothing delivers them in the demo: all kept
    again = run_demo(7, DAY, f"sqlite:///{tmp_path / 'again.db'}")
    assert again.as_dict() == {**run.as_dict(), "store": again.store}  # deterministic


def test_a_demo_store_is_the_one_the_service_reads(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(main, ["demo", "--db", store])
    assert result.exit_code == 0, result.output
    assert f"kept in {store}" in result.output
    assert "gives the same clocks" in result.output
    state = open_store(store).load()
    assert len(state.tickets) == len(
        {clock.ticket for clock in run_demo(7, DAY, "memory://").clocks}
    )


def test_the_demo_writes_its_day_for_simulate_and_report(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    result = CliRunner().invoke(main, ["demo", "--events", str(events), "--format", "json"])
    assert result.exit_code == 0, result.output
    day = generate_day(7, DAY)
    assert [json.loads(line) for line in events.read_text().splitlines()] == day.events
    example = str(example_policy_path())
    simulated = CliRunner().invoke(main, ["simulate", example, str(events), "--format", "json"])
    assert simulated.exit_code == 0, simulated.output
    assert {clock["ticket"] for clock in json.loads(simulated.stdout)["clocks"]} == {
        event["ticket"] for event in day.events}  # fmt: skip


def test_slarules_demo_prints_the_day() -> None:
    result = CliRunner().invoke(main, ["demo", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "slarules demo: 2026-03-04, seed 7" in result.output
    assert "Clocks at 2026-03-04 20:00:00 CET (15 of 300 tickets and calls" in result.output
    assert "Actions fired" in result.output
    assert "By metric" in result.output
    assert "first_response" in result.output
    calls = run_demo(7, DAY, "memory://").calls
    assert (
        f"Calls: {calls.offered} offered, {calls.answered} answered, {calls.answered_within} of "
        f"them within 20s"
    ) in result.output
    assert "kept in a temporary SQLite file" in result.output


def test_slarules_demo_json() -> None:
    result = CliRunner().invoke(main, ["demo", "--format", "json", "--date", "2026-03-05"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["day"] == "2026-03-05"
    assert payload["clocks"]
    assert payload["actions"]
    assert payload["summary"]
    assert {"metric", "met", "breached", "compliance"} <= set(payload["summary"][0])
    assert payload["calls"]["offered"] + payload["calls"]["short_abandoned"] == 140
    assert payload["restart_equal"] is True
