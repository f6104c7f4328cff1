"""Properties of reports and the dashboard over random valid policy files and histories.

Whatever the clocks are (paused, cancelled, far over target, of calls answered or abandoned),
grouped by any keys and periods in any zone, every output renders: the dashboard page, the HTML
report, the JSON, the CSV and the terminal tables, and ``slarules simulate`` and ``report``
print them. Their figures are shares between 0 and 100 or
"no data", the total counts every clock once and the groups once per group it is in, and a
clock's bar adds up.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from random_policies import START, histories, policy_files
from rich.console import Console

from slarules import Engine
from slarules._html import bar_segments
from slarules._render import report_tables
from slarules.cli import _csv, main
from slarules.dashboard import OPEN_STATES, Filters, build_dashboard, dashboard_page
from slarules.metrics import SummaryRow
from slarules.report import ReportOptions, build_report, report_html

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
CLOCK_KEYS = ["policy", "metric", "node", "period"]
GROUPINGS = [*CLOCK_KEYS, "priority", "group", "tags", "custom.seats"]
instants = st.integers(0, 7 * 24 * 60).map(lambda minutes: START + timedelta(minutes=minutes))


def _share(value: Any) -> bool:
    return value is None or 0 <= value <= 100


def _groups_of(fields: Mapping[str, Any], key: str) -> int:
    """How many groups of ``key`` a ticket's clocks count in: a list field's distinct values,
    or 1 (a clock's own keys among them)."""
    if key in CLOCK_KEYS:
        return 1
    value: Any = fields
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if not isinstance(value, list) or not value:
        return 1
    return len({"(none)" if item is None else str(item) for item in value})


@settings(max_examples=60, deadline=None)
@given(
    policy_files(),
    histories(),
    instants,
    st.lists(st.sampled_from(GROUPINGS), min_size=1, max_size=3, unique=True),
    st.sampled_from(["hour", "day", "week", "month"]),
    st.sampled_from(ZONES),
)
def test_every_report_output_renders_with_figures_in_range(
    policies: str,
    events: list[dict[str, Any]],
    at: Any,
    by: list[str],
    period: Any,
    zone: str,
) -> None:
    engine = Engine.from_text(policies, entry_points=False)
    engine.ingest_many(events)
    measured = list(engine.measure(at))
    report = build_report(measured, ReportOptions(at, by=tuple(by), period=period, timezone=zone))

    def counted(row: SummaryRow) -> int:
        return row.met + row.breached + row.running + row.cancelled

    # A clock counts once in the total, and in the rows once for each group it is in: one,
    # or one per distinct value of each list field grouped by (tags).
    assert counted(report.total) == sum(len(ticket.clocks) for ticket in measured)
    assert sum(map(counted, report.rows)) == sum(
        len(ticket.clocks) * math.prod(_groups_of(ticket.fields, key) for key in by)
        for ticket in measured
    )
    assert all(_share(row.compliance) for row in report.rows)
    assert _share(report.compliance)
    written = io.StringIO()
    report.write_json(written)
    assert json.loads(written.getvalue()) == json.loads(json.dumps(report.as_dict()))
    assert len(list(csv.reader(io.StringIO(_csv(report))))) == len(report.rows) + 1
    assert report_html(report).rstrip().endswith("</html>")
    console = Console(file=io.StringIO(), width=120)
    for table in report_tables(report):
        console.print(table)


@settings(max_examples=60, deadline=None)
@given(policy_files(), histories(), instants, st.sampled_from(ZONES), st.data())
def test_the_dashboard_renders_every_open_clock_with_a_bar_that_adds_up(
    policies: str, events: list[dict[str, Any]], now: Any, zone: str, data: st.DataObject
) -> None:
    engine = Engine.from_text(policies, entry_points=False)
    engine.ingest_many(events)
    measured = list(engine.measure(now))
    open_clocks = [c for ticket in measured for c in ticket.clocks if c.state in OPEN_STATES]
    policies_seen = sorted({c.policy for c in open_clocks if c.policy})
    chosen = data.draw(st.sampled_from([None, *policies_seen]))
    filters = Filters(policy=chosen)
    view = build_dashboard(measured, (), filters, now, timezone=zone)

    assert view.open_count == sum(1 for c in open_clocks if chosen in (None, c.policy))
    assert _share(view.compliance)
    assert _share(view.contacts.service_level)
    page = dashboard_page(view, refresh=30, keep={})
    for row in view.open_clocks:
        assert row.ticket in page
        parts = bar_segments(row.clock)
        assert all(part >= 0 for _, part in parts)
        assert sum(part for _, part in parts) <= 100.02  # each part is rounded to 0.01


@settings(max_examples=30, deadline=None)
@given(policy_files(schedules=True), histories(), instants, st.sampled_from(["text", "json"]))
def test_simulate_and_report_print_any_valid_policy_file_and_history(
    policies: str, events: list[dict[str, Any]], at: Any, output: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        policy_file, events_file = Path(folder) / "support.sla", Path(folder) / "events.jsonl"
        policy_file.write_text(policies, encoding="utf-8")
        events_file.write_text("".join(json.dumps(event) + "\n" for event in events))
        when = ["--at", at.isoformat()]
        simulated = CliRunner().invoke(
            main, ["simulate", str(policy_file), str(events_file), *when, "--format", output]
        )
        assert simulated.exit_code == 0, simulated.output
        if output == "json":
            json.loads(simulated.output)
        for form in ("table", "csv", "json", "html"):
            reported = CliRunner().invoke(
                main,
                ["report", str(policy_file), "--events", str(events_file), *when,
                 "--by", "policy,priority", "--format", form],
            )  # fmt: skip
            assert reported.exit_code == 0, reported.output
