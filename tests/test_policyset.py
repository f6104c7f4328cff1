"""Loading policy files into a PolicySet: prelude, includes, names, JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from slarules import (
    Calendar,
    PolicySet,
    PolicySyntaxError,
    PolicyValidationError,
    load_policies,
    parse_policies,
)

OFFICE = """
calendar office {
    timezone "Europe/Berlin"
    hours mon-fri 09:00-17:00
    holiday 2026-12-25 "Christmas Day"
}
"""

POLICIES = """
policy "VIP" {
    applies when "vip" in tags
    calendar office
    first_response within 30m warn at 80%
    service within 4h
}

policy "Standard" {
    calendar always
    first_response within 24h
}

trigger "warn" when first_response.remaining < 10m then notify assignee
"""


def test_a_policy_set_exposes_everything_by_name() -> None:
    policies = parse_policies(OFFICE + POLICIES, source="support.sla")
    assert list(policies.policies) == ["VIP", "Standard"]  # file order: first match wins
    assert list(policies.triggers) == ["warn"]
    assert set(policies.calendars) == {"always", "office"}
    assert {"first_response", "service", "resolution", "answer"} <= set(policies.metrics)
    vip = policies.policies["VIP"]
    assert [(t.metric, t.within.value) for t in vip.targets] == [
        ("first_response", timedelta(minutes=30)),
        ("service", timedelta(hours=4)),
    ]
    assert policies.warnings == ()


def test_calendars_are_real_calendars() -> None:
    office = parse_policies(OFFICE).calendars["office"]
    assert isinstance(office, Calendar)
    christmas_eve = datetime(2026, 12, 24, 15, tzinfo=UTC)  # 16:00 in Berlin
    assert office.add(christmas_eve, timedelta(hours=2)) == datetime(2026, 12, 28, 9, tzinfo=UTC)
    assert parse_policies("").calendars["always"] == Calendar.always()


def test_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "calendars.sla").write_text(OFFICE, encoding="utf-8")
    main = tmp_path / "support.sla"
    main.write_text('include "shared/calendars.sla"\n' + POLICIES, encoding="utf-8")
    policies = load_policies(main)
    assert "office" in policies.calendars
    office = policies.document.calendars[0]
    assert office.span.file == str(tmp_path / "shared" / "calendars.sla")


def test_included_declarations_keep_their_place_in_file_order(tmp_path: Path) -> None:
    (tmp_path / "first.sla").write_text('policy "included" { applies when false }\n')
    main = tmp_path / "main.sla"
    main.write_text(
        'policy "before" { applies when false }\ninclude "first.sla"\n'
        'policy "after" { applies when false }\n'
    )
    assert list(load_policies(main).policies) == ["before", "included", "after"]


def test_an_include_cycle_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.sla").write_text('include "b.sla"\n')
    (tmp_path / "b.sla").write_text('include "a.sla"\n')
    with pytest.raises(PolicyValidationError, match=r"error\[SLA011\].*a\.sla -> b\.sla -> a\.sla"):
        load_policies(tmp_path / "a.sla")


def test_a_missing_file() -> None:
    with pytest.raises(PolicyValidationError, match=r"cannot read `nowhere\.sla`: no such file"):
        load_policies("nowhere.sla")


def test_all_errors_are_reported_at_once() -> None:
    with pytest.raises(PolicySyntaxError) as syntax:
        parse_policies(POLICIES.replace("then notify", "notify"))
    assert len(syntax.value.diagnostics) == 1  # the parser cannot read on after a syntax error
    with pytest.raises(PolicyValidationError) as error:
        parse_policies(POLICIES.replace("30m", "0s"), source="x.sla")
    codes = [d.code for d in error.value.diagnostics]
    assert codes == ["SLA102", "SLA203"]  # no calendar `office` here, and the zero target


def test_redefining_a_prelude_metric_is_an_error() -> None:
    text = "metric first_response {\n    start on created\n    stop on update\n}\n"
    with pytest.raises(PolicyValidationError) as error:
        parse_policies(text, source="x.sla")
    assert "metric `first_response` is built in and cannot be redefined" in str(error.value)


def test_warnings_do_not_stop_loading() -> None:
    policies = parse_policies(POLICIES.replace('applies when "vip" in tags', "") + OFFICE)
    assert [w.code for w in policies.warnings] == ["SLA303"]
    assert policies.warnings[0].severity == "warning"


def test_json_and_its_schema() -> None:
    policies = parse_policies(OFFICE + POLICIES, source="support.sla")
    document = json.loads(policies.to_json())
    assert [p["name"] for p in document["policies"]] == ["VIP", "Standard"]
    assert document["policies"][0]["targets"][0]["within"]["value"] == "PT30M"
    assert document["policies"][0]["span"] == {
        "file": "support.sla",
        "line": 8,
        "column": 1,
        "end_line": 13,
        "end_column": 2,
    }
    schema = PolicySet.json_schema()
    assert set(schema["properties"]) == {
        "calendars",
        "metrics",
        "policies",
        "triggers",
        "schedules",
    }
    assert "PolicyDecl" in schema["$defs"]
