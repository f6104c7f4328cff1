"""`slarules simulate POLICY EVENTS`: replay JSON lines and print clocks and actions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner

from slarules import Engine
from slarules._render import progress_bar
from slarules.cli import main

POLICY = """
policy "P" { applies when true  first_response within 1h  resolution within 4h }
trigger "late" when first_response.overdue then notify "lead"
"""
EVENTS = [
    {"id": "e1", "ticket": "T-1", "type": "ticket.created", "at": "2026-03-02T09:00:00Z"},
    {"id": "e2", "ticket": "T-2", "type": "ticket.created", "at": "2026-03-02T09:30:00Z"},
    {
        "id": "e3",
        "ticket": "T-2",
        "type": "ticket.replied",
        "at": "2026-03-02T09:40:00Z",
        "actor": {"id": "ana", "role": "agent"},
    },
]


def files(tmp_path: Path, extra_lines: Sequence[str] = ()) -> tuple[str, str]:
    policy = tmp_path / "p.sla"
    policy.write_text(POLICY, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    lines = [json.dumps(event) for event in EVENTS] + list(extra_lines)
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(policy), str(events)


def test_text_output_shows_clocks_and_actions_with_their_instants(tmp_path: Path) -> None:
    policy, events = files(tmp_path)
    result = CliRunner().invoke(main, ["simulate", policy, events, "--at", "2026-03-02T11:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "Clocks at 2026-03-02T11:00:00+00:00" in result.output
    assert "breached 2026-03-02 10:00:00 UTC" in result.output  # T-1's first response
    assert "lead" in result.output
    assert "due 2026-03-02 13:30:00 UTC" in result.output  # T-2's resolution
    assert "3 events, 0 repeated ids ignored, 0 bad lines skipped" in result.output


def test_json_output(tmp_path: Path) -> None:
    policy, events = files(tmp_path)
    result = CliRunner().invoke(
        main, ["simulate", policy, events, "--at", "2026-03-02T11:00:00Z", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) == {"at", "clocks", "actions", "rejected"}
    states = {(c["ticket"], c["metric"]): c["state"] for c in payload["clocks"]}
    assert states["T-1", "first_response"] == "breached_running"
    assert states["T-2", "first_response"] == "met"
    assert [(a["name"], a["ticket"], a["at"]) for a in payload["actions"]] == [
        ("notify", "T-1", "2026-03-02T10:00:00.000001Z")
    ]


def test_bad_lines_are_reported_with_their_number_and_the_rest_goes_on(tmp_path: Path) -> None:
    late = {"id": "e9", "ticket": "T-3", "type": "ticket.created", "at": "2026-03-02T10:30:00Z"}
    policy, events = files(
        tmp_path,
        [
            "{not json",
            json.dumps({**EVENTS[0], "id": "e8", "at": "2026-03-02T09:00:00"}),
            json.dumps(late),
        ],
    )
    runner = CliRunner()
    result = runner.invoke(main, ["simulate", policy, events, "--format", "json"])
    assert result.exit_code == 0
    assert f"{events}:4: not JSON" in result.stderr
    assert f"{events}:5: event `e8` rejected: `at`: naive timestamp" in result.stderr
    payload = json.loads(result.stdout)
    assert payload["at"] == "2026-03-02T10:30:00+00:00"  # the latest valid event
    assert {c["ticket"] for c in payload["clocks"]} == {"T-1", "T-2", "T-3"}
    assert len(payload["rejected"]) == 1


def test_the_summary_counts_every_bad_line(tmp_path: Path) -> None:
    naive = json.dumps({**EVENTS[0], "id": "e8", "at": "2026-03-02T09:00:00"})
    policy, events = files(tmp_path, ["{not json", "[1, 2]", naive])
    result = CliRunner().invoke(main, ["simulate", policy, events])
    assert "3 events, 0 repeated ids ignored, 3 bad lines skipped" in result.stdout


def test_as_of_an_earlier_instant_later_events_have_not_happened(tmp_path: Path) -> None:
    later = {"id": "e9", "ticket": "T-3", "type": "ticket.created", "at": "2026-03-02T10:30:00Z"}
    policy, events = files(tmp_path, [json.dumps(later)])
    result = CliRunner().invoke(
        main, ["simulate", policy, events, "--at", "2026-03-02T09:35:00Z", "--format", "json"]
    )
    payload = json.loads(result.stdout)
    # T-2's reply at 09:40 has not come: its first response runs; T-1's is not late yet
    # (it is at 10:00, before T-3 comes).
    states = {(c["ticket"], c["metric"]): c["state"] for c in payload["clocks"]}
    assert states["T-2", "first_response"] == "running"
    assert payload["actions"] == []
    text = CliRunner().invoke(main, ["simulate", policy, events, "--at", "2026-03-02T09:35:00Z"])
    assert "2 after 2026-03-02T09:35:00+00:00 not counted" in text.stdout


def test_lines_that_are_not_event_objects_are_reported(tmp_path: Path) -> None:
    policy, events = files(tmp_path, ["[1, 2]", '"ticket.created"', "null"])
    result = CliRunner().invoke(main, ["simulate", policy, events, "--format", "json"])
    assert result.exit_code == 0
    assert f"{events}:4: not an event: a JSON array, not an object" in result.stderr
    assert f"{events}:5: not an event: a JSON string, not an object" in result.stderr
    assert f"{events}:6: not an event: a JSON null, not an object" in result.stderr
    assert len(json.loads(result.stdout)["clocks"]) == 4


def test_a_file_without_a_valid_event_and_no_instant_is_an_error(tmp_path: Path) -> None:
    policy, _ = files(tmp_path)
    events = tmp_path / "bad.jsonl"
    events.write_text('{"id": "x"}\n\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", policy, str(events)])
    assert result.exit_code == 1
    assert f"{events}:1: event `x` rejected" in result.stderr
    assert f"Error: {events}: no valid events" in result.stderr


def test_progress_bars_fill_exactly_the_bar_green_then_red() -> None:
    engine = Engine.from_text('policy "P" { applies when true  first_response within 1h }')
    engine.ingest(EVENTS[0])
    on_time, late = (
        engine.clocks("T-1", datetime.fromisoformat(at))[0]
        for at in ("2026-03-02T09:30:00Z", "2026-03-02T11:00:00Z")
    )
    assert progress_bar(on_time, width=20).plain == "█" * 10 + "░" * 10
    bar = progress_bar(late, width=20)  # 2h used of 1h: half the bar is overtime
    assert bar.plain == "█" * 20
    styles = [(bar.plain[span.start : span.end], span.style) for span in bar.spans]
    assert styles == [("█" * 10, "green"), ("█" * 10, "red")]


def test_a_policy_with_errors_exits_1(tmp_path: Path) -> None:
    policy, events = files(tmp_path)
    Path(policy).write_text('policy "P" { calendar nowhere }', encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", policy, events])
    assert result.exit_code == 1
    assert "error[SLA102]" in result.stderr
