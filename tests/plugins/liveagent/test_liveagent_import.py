"""LiveAgent's SLA levels (GET /slas) as a policy file that loads and times tickets right."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from mutations import mutated, read_as_policy_file
from slarules_liveagent import slas_to_policies

import slarules
from slarules import PayloadError
from slarules.plugins import Plugins

PAYLOADS = Path(__file__).parent / "payloads"


def levels() -> Any:
    return json.loads((PAYLOADS / "slas.json").read_text("utf-8"))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_importer_is_registered_with_the_adapter() -> None:
    importer = Plugins().adapters["liveagent"].importer
    assert importer is not None
    assert importer.convert({"slas": levels()}) == slas_to_policies({"slas": levels()})


def test_each_level_is_a_calendar_and_a_policy_that_load() -> None:
    text = slas_to_policies({"slas": levels()})
    policies = slarules.parse_policies(text)
    assert list(policies.policies) == ["Gold", '24/7 "Platinum"', "Basic"]
    assert "calendar gold_hours {" in text
    assert "    hours mon-thu 09:00-17:00\n    hours fri 09:00-15:00\n" in text
    assert "    holiday 2026-12-25\n" in text
    assert "    hours mon-tue 08:00-24:00\n" in text  # 00:00 and 24:00 end the day
    assert "    hours sun 00:00-24:00\n" in text
    assert "    # not imported: first_assign 15m" in text
    # The adapter sends calls as tickets: the call target says what would make it run.
    gold = text[text.index('policy "Gold"') :]
    assert "does not send: calls come as tickets" in gold[: gold.index("answer within")]


def test_zero_values_set_no_target() -> None:
    text = slas_to_policies({"slas": levels()})
    basic = text[text.index('policy "Basic"') :]
    assert "first_response within 8h" in basic
    assert "resolution" not in basic
    assert "answer within" not in basic


def test_the_imported_hours_give_the_deadlines() -> None:
    engine = slarules.Engine.from_text(slas_to_policies({"slas": levels()}))
    # Thursday 16:30 in Bratislava: 30 minutes on Thursday, 30 more from Friday 09:00.
    engine.ingest(
        {
            "id": "e1",
            "ticket": "fp80688h",
            "type": "ticket.created",
            "at": "2026-03-05T15:30:00Z",
            "fields": {"status": "new", "sla_level": "Gold"},
        }
    )
    clocks = {
        clock.metric: clock for clock in engine.clocks("fp80688h", utc("2026-03-05T16:00:00"))
    }
    assert clocks["first_response"].policy == "Gold"
    assert clocks["first_response"].due_at == utc("2026-03-06T08:30:00")
    # 24 office hours: 0.5 Thu + 6 Fri + 8 Mon, Tue + 1.5 Wed (a 6-hour Friday).
    assert clocks["resolution"].due_at == utc("2026-03-11T09:30:00")


def test_a_single_level_is_accepted() -> None:
    text = slas_to_policies({"slas": levels()[1]})
    assert "calendar always" in text
    slarules.parse_policies(text)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda level: level.update(name=""), "slas[0].name"),
        (lambda level: level.update(name="Gold\nVIP"), "slas[0].name"),  # would not load
        # Misspelt, a target would be dropped or a day closed without a word.
        (lambda level: level["values"].update(frist_answer=60), "slas[0].values.frist_answer"),
        (
            lambda level: level["business_hours"].update(thursdy=None),
            "slas[0].business_hours.thursdy",
        ),
        (lambda level: level["values"].update(first_answer=-5), "slas[0].values.first_answer"),
        (lambda level: level["values"].update(next_answer="2h"), "slas[0].values.next_answer"),
        (
            lambda level: level["business_hours"].update(timezone="CET+1"),
            "slas[0].business_hours.timezone",
        ),
        (
            lambda level: level["business_hours"]["monday"].update(start="9am"),
            "slas[0].business_hours.monday.start",
        ),
        (
            lambda level: level["business_hours"].update(exclude_holidays=["xmas"]),
            "slas[0].business_hours.exclude_holidays[0]",
        ),
    ],
)
def test_bad_levels_are_payload_errors_naming_the_field(change: Any, field: str) -> None:
    broken = levels()
    change(broken[0])
    with pytest.raises(PayloadError) as raised:
        slas_to_policies({"slas": broken})
    assert raised.value.field == field


def test_two_levels_with_one_name_are_refused() -> None:
    with pytest.raises(PayloadError, match="two levels are named `Gold`"):
        slas_to_policies({"slas": [levels()[0], levels()[0]]})


def test_a_level_open_on_no_day_is_refused() -> None:
    closed = levels()[0]
    closed["business_hours"] = {"timezone": "Europe/Bratislava", "monday": None}
    with pytest.raises(PayloadError, match="open on no day"):
        slas_to_policies({"slas": [closed]})


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_changed_export_gives_a_valid_policy_file_or_names_the_field(
    data: st.DataObject,
) -> None:
    changed = data.draw(mutated(levels()))
    read = read_as_policy_file(lambda: slas_to_policies({"slas": changed}), "liveagent.sla")
    event("policy file" if read else "payload error")
