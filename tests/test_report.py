"""`slarules report`: figures from a replay or a store, as tables, CSV, JSON and an HTML page
checked in real headless Chromium."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

import pytest
from chromium import dump_dom, screenshot
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from slarules import Engine, Event, SlaRulesError, parse_policies, replays
from slarules.cli import main
from slarules.replays import (
    _CAN_FORK,
    CHUNK,
    LARGEST_CHUNK,
    LARGEST_STORED_CHUNK,
    STORED_CHUNK,
    Replay,
    _chunk_for,
    _shares,
)
from slarules.report import (
    HTML_BREACHES,
    Report,
    ReportCount,
    ReportOptions,
    _chart,
    _short_label,
    build_report,
    report_html,
)
from slarules.runtime import Runtime
from slarules.store import Change, SqliteStore, open_store

ROOT = Path(__file__).resolve().parent.parent
MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
POLICY = """
calendar office {
    timezone "Europe/Berlin"
    hours mon-fri 09:00-17:00
}
policy "Phone" {
    applies when channel == "phone"
    calendar always
    answer within 20s
}
policy "Urgent" {
    applies when priority == "urgent"
    calendar office
    first_response within 1h
}
policy "Normal" {
    applies when true
    calendar office
    first_response within 4h
}
"""


def at(minutes: float) -> str:
    return (MONDAY + timedelta(minutes=minutes)).isoformat()


def history() -> list[dict[str, Any]]:
    """Four tickets (one urgent reply late, one normal still open on Tuesday), five calls."""
    events: list[dict[str, Any]] = []

    def ticket(name: str, priority: str, created: float, replied: float | None) -> None:
        events.append({"id": f"{name}-c", "ticket": name, "type": "ticket.created",
                       "at": at(created), "fields": {"priority": priority}})  # fmt: skip
        if replied is not None:
            reply = {"role": "agent"}
            events.append({"id": f"{name}-r", "ticket": name, "type": "ticket.replied",
                           "at": at(replied), "actor": reply, "public": True})  # fmt: skip

    ticket("T1", "urgent", 0, 30)  # met
    ticket("T2", "urgent", 10, 100)  # 90 min: 30 min late
    ticket("T3", "normal", 20, 200)  # met
    ticket("T4", "normal", 60 * 24 + 30, None)  # Tuesday, still running
    for number, (wait, answered) in enumerate(
        [(10, True), (18, True), (30, True), (3, False), (40, False)]
    ):
        name, offered = f"C{number}", 5 + number
        events.append({"id": f"{name}-o", "ticket": name, "type": "contact.offered",
                       "at": at(offered), "fields": {"channel": "phone"}})  # fmt: skip
        kind = "contact.answered" if answered else "contact.abandoned"
        end = MONDAY + timedelta(minutes=offered, seconds=wait)
        events.append({"id": f"{name}-e", "ticket": name, "type": kind, "at": end.isoformat()})
    return events


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "support.sla"
    policy.write_text(POLICY, encoding="utf-8")
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(event) + "\n" for event in history()), encoding="utf-8")
    return policy, events


def run(*arguments: str) -> str:
    result = CliRunner().invoke(main, ["report", *arguments], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def report_json(*arguments: str) -> dict[str, Any]:
    return json.loads(run(*arguments, "--format", "json"))  # type: ignore[no-any-return]


def test_figures_of_a_replay(files: tuple[Path, Path]) -> None:
    policy, events = files
    figures = report_json(str(policy), "--events", str(events), "--by", "policy,metric",
                          "--at", at(60 * 26))  # fmt: skip
    rows = {(row["policy"], row["metric"]): row for row in figures["rows"]}
    assert rows[("Urgent", "first_response")]["compliance"] == 50.0
    assert rows[("Normal", "first_response")]["running"] == 1
    assert rows[("Phone", "answer")]["met"] == 2
    [breach, *_] = figures["breaches"]
    assert (breach["ticket"], breach["late_by"]) == ("T2", 30 * 60.0)
    contacts = figures["contacts"]["abandoned_missed"]
    # The 3 s abandon is under the default 5 s: left out. 2 of 4 answered within 20 s.
    assert (contacts["offered"], contacts["short_abandoned"]) == (4, 1)
    assert contacts["service_level"] == 50.0
    assert contacts["average_speed_of_answer"] == pytest.approx((10 + 18 + 30) / 3)
    assert figures["contacts"]["abandoned_excluded"]["service_level"] == pytest.approx(200 / 3)


def test_by_tags_a_ticket_counts_under_each_tag_and_once_in_the_total(tmp_path: Path) -> None:
    policy = tmp_path / "tags.sla"
    policy.write_text(
        'policy "All" { applies when true  calendar always  first_response within 1h }',
        encoding="utf-8",
    )
    # T1 (vip, billing) met in 30 min, T2 (vip) 30 min late, T3 (no tag) opened later and
    # still within its hour.
    opened = {"T1": (0, ["vip", "billing"]), "T2": (0, ["vip"]), "T3": (100, [])}
    replied = {"T1": 30, "T2": 90}
    events = [{"id": f"{name}-c", "ticket": name, "type": "ticket.created", "at": at(minutes),
               "fields": {"tags": tags}} for name, (minutes, tags) in opened.items()]  # fmt: skip
    events += [{"id": f"{name}-r", "ticket": name, "type": "ticket.replied", "at": at(minutes),
                "actor": {"role": "agent"}, "public": True}
               for name, minutes in replied.items()]  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events), encoding="utf-8")
    arguments = (str(policy), "--events", str(path), "--by", "tags", "--at", at(120))

    figures = report_json(*arguments)
    rows = {row["tags"]: (row["met"], row["breached"], row["running"]) for row in figures["rows"]}
    assert rows == {"vip": (1, 1, 0), "billing": (1, 0, 0), "(none)": (0, 0, 1)}
    total = figures["total"]
    assert (total["met"], total["breached"], total["running"]) == (1, 1, 1)
    assert figures["compliance"] == total["compliance"] == 50.0  # not 2 of 3 rows' verdicts
    assert total["p50"] == 60 * 60.0  # 30 min and 90 min
    table = run(*arguments)
    assert re.search(r"all\s+│\s+1\s+│\s+1\s+│\s+1\s+│\s+0\s+│\s+50%", table), table
    page = run(*arguments, "--format", "html")
    assert re.search(r'id="summary-total".*?>1</td>.*?>1</td>.*?>1</td>', page, re.DOTALL)


def test_short_abandons_can_be_kept_and_the_window_narrowed(files: tuple[Path, Path]) -> None:
    policy, events = files
    figures = report_json(str(policy), "--events", str(events), "--short-abandon", "0s",
                          "--from", at(0), "--to", at(60), "--at", at(60 * 26))  # fmt: skip
    assert figures["contacts"]["abandoned_missed"]["offered"] == 5
    metrics = {row["metric"] for row in figures["rows"]}
    assert metrics == {"first_response", "answer"}
    # T4 started on Tuesday, outside the window; the rest were settled by Tuesday.
    assert sum(row["running"] for row in figures["rows"]) == 0


def test_periods_in_a_time_zone(files: tuple[Path, Path]) -> None:
    policy, events = files
    figures = report_json(str(policy), "--events", str(events), "--by", "period",
                          "--tz", "America/New_York", "--period", "day")  # fmt: skip
    # 09:00 Berlin is 03:00 in New York: Monday and Tuesday there too.
    assert [row["period"] for row in figures["rows"]] == ["2026-03-02", "2026-03-03"]
    assert [period["period"] for period in figures["periods"]] == ["2026-03-02", "2026-03-03"]


def test_csv_for_spreadsheets(files: tuple[Path, Path]) -> None:
    policy, events = files
    text = run(str(policy), "--events", str(events), "--by", "priority", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["priority"] for row in rows] == ["urgent", "normal", "(none)"]
    assert rows[0]["compliance"] == "50.0"
    assert rows[0]["p50"] == str(60 * 60.0)  # 30 min and 90 min: their middle


def test_the_table_in_the_terminal(files: tuple[Path, Path]) -> None:
    policy, events = files
    text = run(str(policy), "--events", str(events), "--by", "policy")
    assert "Urgent" in text
    assert "abandoned_after_missed" in text
    assert "T2" in text


def test_the_table_of_an_empty_range_says_there_is_no_data(files: tuple[Path, Path]) -> None:
    policy, events = files
    text = run(str(policy), "--events", str(events), "--from", "2027-01-01T00:00:00Z",
               "--to", "2027-01-02T00:00:00Z", "--by", "policy")  # fmt: skip
    [total] = [line for line in text.splitlines() if "│ all" in line]
    assert "no data" in total  # its compliance: nothing met nor breached
    assert " 0 " in total


def test_a_store_kept_by_the_service(files: tuple[Path, Path], tmp_path: Path) -> None:
    policy, events = files
    url = f"sqlite:///{tmp_path / 'slarules.db'}"
    runtime = Runtime.open(policy, open_store(url), clock=lambda: MONDAY + timedelta(days=2))
    runtime.ingest_many(history())
    runtime.close()
    from_store = report_json(str(policy), "--db", url, "--at", at(60 * 26))
    replayed = report_json(str(policy), "--events", str(events), "--at", at(60 * 26))
    assert from_store["rows"] == replayed["rows"]
    assert from_store["contacts"] == replayed["contacts"]


def test_bad_invocations_say_why(files: tuple[Path, Path]) -> None:
    policy, events = files
    both = CliRunner().invoke(main, ["report", str(policy)])
    assert both.exit_code == 2
    assert "one of --events FILE and --db URL" in both.output
    zone = CliRunner().invoke(main, ["report", str(policy), "--events", str(events),
                                     "--tz", "Europe/Berln"])  # fmt: skip
    assert zone.exit_code == 2
    assert "Europe/Berlin" in zone.output  # did you mean


def test_the_html_report_renders_in_chromium(files: tuple[Path, Path], tmp_path: Path) -> None:
    policy, events = files
    page = tmp_path / "report.html"
    run(str(policy), "--events", str(events), "--by", "policy,metric", "--period", "hour",
        "--tz", "Europe/Berlin", "--format", "html", "--output", str(page))  # fmt: skip
    dom = dump_dom(page.as_uri())
    assert '<div class="value">50.0%</div>' in dom  # the service level figure
    assert dom.count('class="bar-value"') >= 3  # bars in the charts
    assert 'class="target"' in dom  # the service level target line
    assert "<td>T2</td>" in dom
    assert "http" not in page.read_text(encoding="utf-8").replace("http://www.w3.org", "")
    image = tmp_path / "report.png"
    screenshot(page.as_uri(), image, size=(1280, 1600))


def test_the_documentation_picture_of_the_html_report(tmp_path: Path) -> None:
    """A realistic day: the bundled example and the demo's generated events."""
    from slarules.demo import generate_day

    day = generate_day(7, datetime(2026, 3, 4).date())
    events = tmp_path / "day.jsonl"
    events.write_text("".join(json.dumps(event) + "\n" for event in day.events), encoding="utf-8")
    page = tmp_path / "report.html"
    example = ROOT / "slarules" / "examples" / "support.sla"
    run(str(example), "--events", str(events), "--by", "policy", "--period", "hour",
        "--tz", "Europe/Berlin", "--format", "html", "--output", str(page))  # fmt: skip
    update = os.environ.get("SLARULES_UPDATE_SCREENSHOTS") == "1"
    target = ROOT / "docs" / "images" / "report.png" if update else tmp_path / "report.png"
    target.parent.mkdir(exist_ok=True)
    screenshot(page.as_uri(), target, size=(1280, 1500))


def test_a_report_goes_over_the_clocks_once(files: tuple[Path, Path]) -> None:
    # `slarules report` feeds the report from a Replay, ticket by ticket: each ticket's clocks
    # are counted and let go. The same report as from the engine's clocks, held in a list.
    policy, _ = files
    replayed = Replay.from_file(policy)
    assert replayed.add_many(history()) == []
    engine = Engine.from_file(policy)
    engine.ingest_many(history())
    measured_at = MONDAY + timedelta(days=1, hours=2)
    options = ReportOptions(at=measured_at, by=("policy", "metric"), period="hour",
                            timezone="Europe/Berlin")  # fmt: skip
    streamed = build_report(replayed.measure(measured_at), options)
    held = build_report(list(engine.measure(measured_at)), options)
    assert streamed.as_dict() == held.as_dict()
    periods = [(p["period"], p["met"], p["offered"]) for p in streamed.as_dict()["periods"]]
    assert periods == [("2026-03-02T09:00+01:00", 4, 4), ("2026-03-03T09:00+01:00", 0, 0)]
    # A period's figures are those of its row when the report is by period: the calls' clocks
    # count in its compliance too, as in the total and in the list of breaches.
    by_period = build_report(replayed.measure(measured_at), replace(options, by=("period",)))
    assert [(row.group["period"], row.met, row.breached) for row in by_period.rows] == [
        (p.period, p.compliance.met, p.compliance.breached) for p in streamed.periods
    ]


def test_a_replay_measures_at_any_instant_and_names_bad_events(files: tuple[Path, Path]) -> None:
    policy, _ = files
    replayed = Replay.from_file(policy)
    events = history()
    bad = {**events[0], "at": "2026-03-02T09:00:00"}  # naive
    rejected = replayed.add_many([*events, bad])
    assert [(position, error.problems[0][0]) for position, error in rejected] == [
        (len(events), "at")
    ]
    assert replayed.latest == max(datetime.fromisoformat(e["at"]) for e in events)
    engine = Engine.from_file(policy)
    engine.ingest_many(events)
    for hours in (0, 1, 5, 30):  # events after the instant do not count yet
        measured_at = MONDAY + timedelta(hours=hours)
        assert list(replayed.measure(measured_at)) == list(engine.measure(measured_at))


@pytest.fixture(scope="module")
def demo_day() -> tuple[Replay, ReportOptions, Report]:
    """The demo's day through the example policy file, and its report counted in one pass."""
    from slarules.demo import generate_day

    day = generate_day(3, datetime(2026, 3, 4).date())
    replayed = Replay.from_file(ROOT / "slarules" / "examples" / "support.sla")
    assert replayed.add_many(day.events) == []
    assert replayed.latest is not None
    options = ReportOptions(at=replayed.latest, by=("policy", "metric"), period="hour",
                            timezone="Europe/Berlin")  # fmt: skip
    return replayed, options, build_report(replayed.measure(replayed.latest), options)


@pytest.mark.parametrize("jobs", [1, 2, 3, 7])
def test_a_report_counted_in_several_processes_is_the_same_report(
    demo_day: tuple[Replay, ReportOptions, Report], jobs: int
) -> None:
    replayed, options, in_one_pass = demo_day
    assert replayed.report(options, jobs=jobs, share=20).as_dict() == in_one_pass.as_dict()


@pytest.mark.skipif(not _CAN_FORK, reason="one process counts every ticket where none forks")
def test_a_failed_share_is_named(
    demo_day: tuple[Replay, ReportOptions, Report], monkeypatch: pytest.MonkeyPatch
) -> None:
    replayed, options, _ = demo_day
    parent = os.getpid()
    add = ReportCount.add_clocks

    def add_in_the_parent_only(count: ReportCount, ticket: Any, clocks: Any) -> None:
        if os.getpid() != parent:
            raise ValueError("a bug in a share")
        add(count, ticket, clocks)

    monkeypatch.setattr(ReportCount, "add_clocks", add_in_the_parent_only)
    failed = r"(?s)counting a share of the tickets failed:.*ValueError: a bug"
    with pytest.raises(SlaRulesError, match=failed):
        replayed.report(options, jobs=2, share=20)


@given(st.integers(0, 10**6), st.integers(1, 64), st.integers(1, 10**4))
def test_shares_cover_every_ticket_once(tickets: int, jobs: int, share: int) -> None:
    shares = _shares(tickets, jobs, share)
    assert shares[0][0] == 0
    assert shares[-1][1] == tickets
    assert all(stop == start for (_, stop), (start, _) in itertools.pairwise(shares))
    assert len(shares) <= jobs
    assert len(shares) == 1 or all(stop - start >= share for start, stop in shares)


def test_a_chart_draws_its_bars_to_scale_and_leaves_a_gap_where_there_is_no_data() -> None:
    chart = _chart("Compliance", [("a", 100.0), ("b", None), ("c", 50.0), ("d", 0.0)],
                   top=100.0, unit="%", target=80.0)  # fmt: skip
    full, half, empty = chart.bars
    assert [bar.label for bar in chart.bars] == ["a", "c", "d"]
    bottom = full.y + full.height
    assert bottom == half.y + half.height == empty.y == chart.height - 28  # one baseline
    assert (half.height, empty.height) == (full.height / 2, 0)
    assert full.y == 16  # the top of the plot, under the room for its label
    assert chart.target_y == pytest.approx(bottom - 0.8 * full.height)
    # Four slots of equal width, each bar centred in its own: "b" keeps its place, empty.
    slot = chart.width / 4
    assert [bar.x + bar.width / 2 for bar in chart.bars] == pytest.approx(
        [slot / 2, 2.5 * slot, 3.5 * slot]
    )
    assert (full.value, chart.target, chart.empty) == ("100.0%", "target 80%", False)
    over = _chart("Breaches", [("a", 7.0)], top=5.0, unit="")
    [alone] = over.bars
    assert (alone.y, alone.value) == (16, "7")  # past the top: drawn full
    assert alone.x + alone.width / 2 == over.width / 2  # the one slot is the whole width
    assert _chart("Service level", [("a", None)], top=100.0, unit="%").empty


@pytest.mark.parametrize(
    ("period", "short"),
    [("2026-03-04T07:00+01:00", "07:00"), ("2026-03-04", "03-04"), ("2026-W13", "W13"),
     ("2026-03", "2026-03")],
)  # fmt: skip
def test_a_chart_labels_each_bar_with_what_fits_under_it(period: str, short: str) -> None:
    assert _short_label(period) == short


def test_the_html_report_lists_the_latest_breaches_and_counts_the_rest() -> None:
    policies = 'policy "All" { applies when true  calendar always  first_response within 1m }'
    replayed = Replay(parse_policies(policies))
    tickets = HTML_BREACHES + 5
    replayed.add_many(
        {"id": "c", "ticket": f"T-{n}", "type": "ticket.created",
         "at": (MONDAY + timedelta(seconds=n)).isoformat()}
        for n in range(tickets)
    )  # fmt: skip
    built = replayed.report(ReportOptions(at=MONDAY + timedelta(hours=1)))
    assert len(built.breaches) == tickets
    page = report_html(built)
    assert page.count('class="state-breached_running"') == HTML_BREACHES
    assert "… and 5 more, less late" in page
    assert "<td>T-0</td>" in page  # the latest: opened first
    assert f"<td>T-{tickets - 1}</td>" not in page


def test_the_json_written_a_breach_at_a_time_is_the_json_of_the_report(
    demo_day: tuple[Replay, ReportOptions, Report],
) -> None:
    _, _, with_breaches = demo_day
    assert with_breaches.breaches
    tricky = Replay(parse_policies('policy "All" { applies when true  first_response within 1h }'))
    tricky.add({"id": "c", "ticket": 'T-1 "é"\n', "type": "ticket.created",
                "at": MONDAY.isoformat(), "fields": {"group": '\n  "breaches": []'}})  # fmt: skip
    for hours in (0, 30):  # none breached yet, then one
        at = MONDAY + timedelta(hours=hours)
        tricky_report = tricky.report(ReportOptions(at=at, by=("group",)))
        for report in (with_breaches, tricky_report):
            written = io.StringIO()
            report.write_json(written)
            assert written.getvalue() == json.dumps(report.as_dict(), indent=2)


def _events_file(tmp_path: Path) -> tuple[Path, list[tuple[int, str]]]:
    """The demo's day as JSON lines, shuffled, with repeated events far from their first (some
    sent again at a later instant), blank lines, and bad lines of every kind; and the problems
    a replay must report, by line."""
    from slarules.demo import generate_day

    day = generate_day(5, MONDAY.date()).events
    events = [json.dumps(event, default=str) for event in day]
    random = Random(7)
    random.shuffle(events)
    events += random.sample(events, 30)  # repeated, most in other chunks than their first
    # Sent again a day later under the same ids: repeats still, though after all the first ones.
    later = [{**event, "at": datetime.fromisoformat(str(event["at"])) + timedelta(days=1)}
             for event in random.sample(day, 10)]  # fmt: skip
    events += [json.dumps(event, default=str) for event in later]
    bad = [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe not UTF-8",
           json.dumps({"id": "n", "ticket": "T", "type": "ticket.created",
                       "at": "2026-03-02T09:00:00"}).encode()]  # fmt: skip
    lines = [event.encode() for event in events]
    for position, line in zip((3, 500, 501, 900, len(lines) - 2), bad, strict=True):
        lines.insert(position, line)
    lines.insert(700, b"  ")
    path = tmp_path / "shuffled.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, [(number, line.decode(errors="replace")) for number, line in
                  enumerate(lines, start=1) if line in bad]  # fmt: skip


@pytest.mark.parametrize(("jobs", "chunk"), [(1, None), (1, 4096), (2, 4096), (3, 777)])
def test_an_events_file_read_in_chunks_and_processes_is_the_replay_of_its_lines(
    tmp_path: Path, jobs: int, chunk: int | None
) -> None:
    path, bad = _events_file(tmp_path)
    policies = parse_policies(POLICY)
    one_by_one = Replay(policies)
    for line in path.read_bytes().splitlines():
        if line.strip():
            with contextlib.suppress(SlaRulesError):
                one_by_one.add(line)
    replayed = Replay(policies)
    problems: list[tuple[int, str]] = []
    progress: list[int] = []
    replayed.add_file(path, jobs=jobs, chunk=chunk,
                      on_problem=lambda number, what: problems.append((number, what)),
                      on_progress=progress.append)  # fmt: skip
    assert list(replayed._histories.items()) == list(one_by_one._histories.items())
    assert (replayed.events, replayed.duplicates) == (one_by_one.events, one_by_one.duplicates)
    assert replayed.duplicates == 40
    assert replayed.latest == one_by_one.latest
    assert [number for number, _ in problems] == [number for number, _ in bad]
    assert [what.split(":")[0] for _, what in problems] == [
        "not JSON", "not an event", "not an event", "not UTF-8 text",
        "event `n` rejected"]  # fmt: skip
    assert sum(progress) == path.stat().st_size
    assert len(progress) > 1 if chunk else len(progress) == 1


@pytest.mark.parametrize(("jobs", "chunk"), [(1, STORED_CHUNK), (1, 100), (2, 100), (3, 77)])
def test_a_store_read_in_spans_and_processes_is_the_replay_of_its_events(
    tmp_path: Path, jobs: int, chunk: int
) -> None:
    from slarules.demo import generate_day

    store = SqliteStore(tmp_path / "slarules.db")
    day = [Event.parse(event) for event in generate_day(5, MONDAY.date()).events]
    store.commit(Change(events=[(event, None) for event in day[:300]]))
    with contextlib.closing(sqlite3.connect(tmp_path / "slarules.db")) as db, db:
        db.execute(  # written by hand: no event at all
            "INSERT INTO events (ticket, id, body) VALUES ('T-x', 'x', '{\"id\": \"x\"}')"
        )
    store.commit(Change(events=[(event, None) for event in day[300:]]))
    policies = parse_policies(POLICY)
    one_by_one = Replay(policies)
    assert [position for position, _ in one_by_one.add_many(store.events())] == [300]
    replayed = Replay(policies)
    problems: list[tuple[int, str]] = []
    progress: list[tuple[int, int]] = []
    replayed.add_store(store, jobs=jobs, chunk=chunk,
                       on_problem=lambda number, what: problems.append((number, what)),
                       on_progress=lambda *told: progress.append(told))  # fmt: skip
    spans = len(store.event_spans(chunk))
    store.close()
    assert progress == [(taken, spans) for taken in range(1, spans + 1)]
    assert list(replayed._histories.items()) == list(one_by_one._histories.items())
    assert (replayed.events, replayed.latest) == (one_by_one.events, one_by_one.latest)
    assert [(number, what.split(":")[0]) for number, what in problems] == [
        (301, "event `x` rejected")]  # fmt: skip


@pytest.mark.skipif(not _CAN_FORK, reason="one process reads the events where none forks")
def test_a_failed_reading_process_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = _events_file(tmp_path)
    parent = os.getpid()
    read_chunk = replays._read_chunk

    def read_in_the_parent_only(*arguments: Any) -> Any:
        if os.getpid() != parent:
            raise ValueError("a bug in a reader")
        return read_chunk(*arguments)

    monkeypatch.setattr(replays, "_read_chunk", read_in_the_parent_only)
    with pytest.raises(SlaRulesError, match=r"(?s)reading the events failed:.*a bug in a reader"):
        Replay(parse_policies(POLICY)).add_file(path, jobs=2, chunk=4096)


def test_chunks_of_a_large_file_or_store_grow_to_leave_each_process_a_dozen() -> None:
    mib = 1024 * 1024

    def chunk(size: int, jobs: int) -> int:
        return _chunk_for(size, jobs, CHUNK, LARGEST_CHUNK)

    assert chunk(5 * mib, jobs=2) == CHUNK  # a small file: the chunk of a second's work
    assert chunk(600 * mib, jobs=2) == 25 * mib
    assert chunk(1700 * mib, jobs=2) == LARGEST_CHUNK  # a million tickets' events
    assert chunk(600 * mib, jobs=1) == 50 * mib
    assert _chunk_for(2_400_000, 2, STORED_CHUNK, LARGEST_STORED_CHUNK) == 100_000


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads processes from /proc")
def test_readers_of_a_killed_replay_stop_and_delete_what_they_read(tmp_path: Path) -> None:
    path, _ = _events_file(tmp_path)
    big = tmp_path / "big.jsonl"
    big.write_bytes(path.read_bytes() * 40)  # some 2,000 chunks of 4 KB
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    script = (
        "from slarules import parse_policies; from slarules.replays import Replay\n"
        f"Replay(parse_policies({POLICY!r})).add_file({str(big)!r}, jobs=2, chunk=4096)"
    )
    taker = subprocess.Popen(
        [sys.executable, "-c", script], env={**os.environ, "TMPDIR": str(scratch)}
    )
    readers = _when(lambda: _children(taker.pid) if any(scratch.glob("*/*.pickle")) else [])
    taker.kill()  # as SIGKILL, or the machine's out-of-memory killer, would
    taker.wait()
    assert _when(lambda: not any(map(_running, readers)))
    assert list(scratch.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads processes from /proc")
def test_counting_processes_of_a_killed_report_stop_and_end_quietly(tmp_path: Path) -> None:
    # In the forked processes, each ticket takes a twentieth of a second to count: their shares
    # of 5,000 tickets would keep them busy for four minutes after the report is killed, were
    # they to count them all; and the count they would then give back is larger than a pipe
    # holds.
    script = f"""
import os, time
from datetime import date
from slarules import parse_policies, replays
from slarules.demo import generate_day
from slarules.replays import Replay
from slarules.report import ReportOptions

taker = os.getpid()
replay = replays.replay

def slowly(*arguments):
    if os.getpid() != taker:
        print("counting", flush=True)
        time.sleep(0.05)
    return replay(*arguments)

replays.replay = slowly
replayed = Replay(parse_policies({POLICY!r}))
replayed.add_many(generate_day(3, date(2026, 3, 2), tickets=10_000, calls=0).events)
replayed.report(ReportOptions(at=replayed.latest, by=("metric", "period")), jobs=2, share=100)
"""
    taker = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert taker.stdout is not None
    assert taker.stdout.readline() == b"counting\n"
    counting = _children(taker.pid)
    taker.kill()
    taker.wait()
    assert _when(lambda: not any(map(_running, counting)), seconds=30)
    assert taker.stderr is not None
    assert taker.stderr.read() == b""  # no traceback of a pipe nobody reads


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _running(pid: int) -> bool:
    """Whether the process is there and not a zombie (an orphan's end, until it is reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _when(condition: Callable[[], Any], seconds: float = 30) -> Any:
    """The first true value of ``condition``, asked until ``seconds`` pass (then it fails)."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, f"still not so after {seconds} s"
        time.sleep(0.02)
    return value


def test_the_report_of_an_events_file_read_in_processes_is_the_report_of_one(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy, _ = files
    path, bad = _events_file(tmp_path)
    arguments = ["report", str(policy), "--events", str(path), "--by", "policy,metric",
                 "--format", "json"]  # fmt: skip
    alone = CliRunner().invoke(main, [*arguments, "--jobs", "1"], catch_exceptions=False)
    monkeypatch.setattr(replays, "CHUNK", 2048)
    shared = CliRunner().invoke(main, [*arguments, "--jobs", "2"], catch_exceptions=False)
    assert (shared.exit_code, shared.stdout, shared.stderr) == (
        alone.exit_code, alone.stdout, alone.stderr)  # fmt: skip
    assert json.loads(shared.stdout)["rows"]
    assert [line.split(": ")[0] for line in shared.stderr.splitlines()] == [
        f"{path}:{number}" for number, _ in bad
    ]


def test_bad_lines_are_named_and_the_report_goes_on(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    policy, events = files
    lines = events.read_text(encoding="utf-8").splitlines()
    naive = json.dumps({**json.loads(lines[0]), "id": "naive", "at": "2026-03-02T09:00:00"})
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join([lines[0], "{not json", "[1, 2]", naive, *lines[1:]]) + "\n",
                     encoding="utf-8")  # fmt: skip
    result = CliRunner().invoke(main, ["report", str(policy), "--events", str(mixed), "--at",
                                       at(60 * 26), "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"{mixed}:2: not JSON" in result.stderr
    assert f"{mixed}:3: not an event: a JSON array, not an object" in result.stderr
    assert f"{mixed}:4: " in result.stderr
    assert "naive timestamp" in result.stderr
    clean = report_json(str(policy), "--events", str(events), "--at", at(60 * 26))
    assert json.loads(result.stdout) == clean


def test_a_replay_shows_its_progress_on_a_terminal_and_leaves_pipes_alone(
    files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy, events = files
    url = f"sqlite:///{tmp_path / 'slarules.db'}"
    runtime = Runtime.open(policy, open_store(url), clock=lambda: MONDAY + timedelta(days=2))
    runtime.ingest_many(history())
    runtime.close()
    monkeypatch.setattr(replays, "CHUNK", 256)  # a few chunks, a few spans: a bar that moves
    monkeypatch.setattr(replays, "STORED_CHUNK", 4)
    sources = [(["--events", str(events)], "events.jsonl"), (["--db", url], "slarules.db")]
    for source, shown in sources:
        arguments = ["report", str(policy), *source, "--at", at(60 * 26), "--jobs", "1",
                     "--format", "json"]  # fmt: skip
        piped = CliRunner().invoke(main, arguments, catch_exceptions=False)
        assert "replaying" not in piped.stderr
        terminal = CliRunner().invoke(main, arguments, env={"FORCE_COLOR": "1"})
        assert terminal.exit_code == 0, terminal.output
        assert f"replaying {shown}" in terminal.stderr
        assert "100%" in terminal.stderr
        assert terminal.stdout == piped.stdout
