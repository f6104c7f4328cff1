"""Zendesk's SLA policies and schedules as a policy file that passes `slarules check` and
times tickets the way the schedule says."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import PAYLOADS, read_payload
from hypothesis import event, given, settings
from hypothesis import strategies as st
from mutations import mutated, read_as_policy_file
from slarules_zendesk import RAILS_ZONES, export_to_policies, iana_zone

import slarules
from slarules import PayloadError
from slarules.cli import main
from slarules.timezones import get_zone

BERLIN = ZoneInfo("Europe/Berlin")


def exports(load: Callable[..., Any]) -> dict[str, Any]:
    return {"policies": load("sla_policies.json"), "schedules": load("schedules.json")}


def imported(load: Callable[..., Any]) -> str:
    return export_to_policies(exports(load))


def test_the_cli_imports_a_file_that_passes_check(tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "zendesk.sla"
    result = runner.invoke(
        main,
        [
            "import",
            "zendesk",
            "--policies",
            str(PAYLOADS / "sla_policies.json"),
            "--schedules",
            str(PAYLOADS / "schedules.json"),
            "-o",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    checked = runner.invoke(main, ["check", str(target)])
    assert checked.exit_code == 0, checked.output
    assert f"{target}: ok" in checked.output


def test_schedules_become_calendars(load: Callable[..., Any]) -> None:
    text = imported(load)
    berlin = text[text.index("calendar support_berlin {") :]
    berlin = berlin[: berlin.index("}")]
    assert '    timezone "Europe/Berlin"' in berlin
    assert "    hours mon-fri 09:00-17:00\n" in berlin
    assert '    holiday 2026-04-06 "Easter Monday"\n' in berlin
    for day in ("2026-12-24", "2026-12-25", "2026-12-26"):  # start_date..end_date
        assert f'    holiday {day} "Christmas"\n' in berlin
    assert '    timezone "America/New_York"' in text
    assert "    hours mon-fri 08:00-12:00, 13:00-20:00\n    hours sat 10:00-14:00\n" in text


def test_policies_follow_position_then_priority(load: Callable[..., Any]) -> None:
    policies = slarules.parse_policies(imported(load)).policies
    assert list(policies) == [
        "Enterprise (urgent)",
        "Enterprise (high)",
        "Enterprise (other priorities)",
        "Email incidents (normal)",
        "Email incidents (other priorities)",
        "Standard (high)",
        "Standard (normal)",
        "Standard (low)",
        "Standard (other priorities)",
    ]
    # A policy holds its tickets whatever their priority, as in Zendesk: no targets, no SLA.
    assert not policies["Enterprise (other priorities)"].targets


def test_filters_and_targets_are_translated(load: Callable[..., Any]) -> None:
    text = imported(load)
    assert (
        'applies when priority == "urgent" and (organization == "361234567890" and '
        '(("vip" in tags or "enterprise" in tags) or group == "360004455661"))'
    ) in text
    assert (
        'applies when priority == "normal" and (type == "incident" and status in ["new", '
        '"open", "pending", "hold"] and channel == "email" and "spam" not-in tags and '
        '"test" not-in tags)'
    ) in text
    urgent = text[text.index('policy "Enterprise (urgent)"') :]
    urgent = urgent[: urgent.index("}")]
    assert "calendar always" in urgent  # business_hours: false
    assert "first_reply within 30m" in urgent
    assert "next_reply within 1h" in urgent
    assert "agent_work within 4h" in urgent
    assert "metric agent_work {" in text
    assert "metric pausable_update {" in text
    assert "requester_wait within 48h" in text


def test_mixed_calendars_in_one_priority_are_said_out_loud(load: Callable[..., Any]) -> None:
    text = imported(load)
    high = text[text.index('policy "Standard (high)"') :]
    assert "# Zendesk counts periodic_update_time in calendar hours" in high


def _created(engine: slarules.Engine, at: datetime, **fields: Any) -> None:
    engine.ingest(
        {
            "id": f"zendesk-created-{at.isoformat()}",
            "ticket": "5158",
            "type": "ticket.created",
            "at": at.isoformat(),
            "fields": {"status": "new", "tags": [], **fields},
        }
    )


def _due(engine: slarules.Engine, metric: str, now: datetime) -> datetime | None:
    [clock] = [c for c in engine.clocks("5158", now) if c.metric == metric]
    return clock.due_at


@pytest.mark.parametrize(
    ("created", "due"),
    [
        # Friday 16:00: one hour on Friday, seven on Monday; the clocks went forward on Sunday.
        (datetime(2026, 3, 27, 16, 0, tzinfo=BERLIN), datetime(2026, 3, 30, 16, 0, tzinfo=BERLIN)),
        # Friday 16:00 before Easter Monday, a holiday of the schedule: due on Tuesday.
        (datetime(2026, 4, 3, 16, 0, tzinfo=BERLIN), datetime(2026, 4, 7, 16, 0, tzinfo=BERLIN)),
        # Wednesday before the Christmas holidays (24th to 26th): due on the 28th.
        (
            datetime(2026, 12, 23, 12, 0, tzinfo=BERLIN),
            datetime(2026, 12, 28, 12, 0, tzinfo=BERLIN),
        ),
    ],
)
def test_the_engine_built_from_the_import_gives_the_schedules_deadlines(
    load: Callable[..., Any], created: datetime, due: datetime
) -> None:
    engine = slarules.Engine.from_text(imported(load), source="zendesk.sla")
    _created(engine, created.astimezone(UTC), priority="normal", type="question")
    now = created.astimezone(UTC)
    [clock] = [c for c in engine.clocks("5158", now) if c.metric == "first_reply"]
    assert clock.policy == "Standard (normal)"
    assert clock.target.total_seconds() == 8 * 3600
    assert clock.due_at == due.astimezone(UTC)


def _enterprise_ticket(load: Callable[..., Any], priority: str) -> tuple[slarules.Engine, datetime]:
    """An engine of the import, and the instant a ticket of the Enterprise policy's filter came
    with ``priority``: Friday 3 April 2026, 16:00 in Berlin."""
    engine = slarules.Engine.from_text(imported(load))
    created = datetime(2026, 4, 3, 16, 0, tzinfo=BERLIN).astimezone(UTC)
    _created(engine, created, priority=priority, organization="361234567890", tags=["vip"])
    return engine, created


def test_calendar_hours_targets_ignore_the_schedule(load: Callable[..., Any]) -> None:
    engine, created = _enterprise_ticket(load, "urgent")
    assert _due(engine, "first_reply", created) == datetime(2026, 4, 3, 14, 30, tzinfo=UTC)


def test_a_ticket_solved_before_any_reply_stops_its_reply_clocks(
    load: Callable[..., Any],
) -> None:
    # Zendesk stops every metric when the ticket is solved: no breach comes after.
    engine, created = _enterprise_ticket(load, "urgent")
    solved = created + timedelta(minutes=10)
    engine.ingest({"id": "s", "ticket": "5158", "type": "ticket.updated",
                   "at": solved.isoformat(), "fields": {"status": "solved"}})  # fmt: skip
    [clock] = [c for c in engine.clocks("5158", created + timedelta(days=1))
               if c.metric == "first_reply"]  # fmt: skip
    assert (clock.state.value, clock.stopped_at) == ("met", solved)


def test_a_misspelt_metric_is_an_error_and_a_new_one_a_comment(load: Callable[..., Any]) -> None:
    given = exports(load)
    metrics = given["policies"]["sla_policies"][0]["policy_metrics"]
    metrics[0]["metric"] = "first_reply"
    with pytest.raises(PayloadError) as raised:
        export_to_policies(given)
    assert raised.value.reason == "unknown metric `first_reply` (did you mean `first_reply_time`?)"
    metrics[0]["metric"] = "group_ownership_time"  # none of ours: imported as a comment
    assert "# not imported: group_ownership_time" in export_to_policies(given)


def test_a_ticket_its_policy_sets_no_target_for_gets_no_sla_not_the_next_policys(
    load: Callable[..., Any],
) -> None:
    engine, created = _enterprise_ticket(load, "normal")  # it sets urgent and high targets
    assert engine.clocks("5158", created + timedelta(hours=1)) == []


def test_a_filter_group_zendesk_has_not_is_refused(load: Callable[..., Any]) -> None:
    given = exports(load)
    given["policies"]["sla_policies"][0]["filter"]["none"] = [
        {"field": "current_tags", "operator": "includes", "value": "spam"}
    ]
    with pytest.raises(PayloadError) as raised:  # leaving it out would widen the policy
        export_to_policies(given)
    assert raised.value.field == "policies.sla_policies[0].filter.none"


def test_one_page_of_several_is_refused(load: Callable[..., Any]) -> None:
    given = exports(load)
    given["policies"]["next_page"] = "https://acme.zendesk.com/api/v2/slas/policies?page=2"
    with pytest.raises(PayloadError) as raised:
        export_to_policies(given)
    assert raised.value.field == "policies.next_page"


def test_unsupported_conditions_are_all_reported(load: Callable[..., Any]) -> None:
    given = exports(load)
    conditions = given["policies"]["sla_policies"][0]["filter"]["all"]
    conditions.append({"field": "custom_fields_360012345671", "operator": "is", "value": "emea"})
    conditions.append({"field": "status", "operator": "changed", "value": "open"})
    with pytest.raises(PayloadError) as raised:
        export_to_policies(given)
    assert raised.value.field == "policies.sla_policies[0].filter.all[0].field"
    assert "custom_fields_360012345671" in raised.value.reason
    assert "policies.sla_policies[0].filter.all[1].operator" in raised.value.reason


def test_the_cli_reports_an_unsupported_condition(tmp_path: Path, load: Callable[..., Any]) -> None:
    given = exports(load)
    given["policies"]["sla_policies"][0]["filter"]["any"] = [
        {"field": "requester.custom_fields.tier", "operator": "is", "value": "gold"}
    ]
    policies = tmp_path / "sla_policies.json"
    policies.write_text(json.dumps(given["policies"]))
    result = CliRunner().invoke(
        main,
        ["import", "zendesk", "--policies", str(policies), "--schedules",
         str(PAYLOADS / "schedules.json")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "cannot import condition on `requester.custom_fields.tier`" in result.output


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("schedules", 0, "time_zone", "Atlantis"), "schedules.schedules[0].time_zone"),
        (("schedules", 0, "intervals", [{"start_time": 2400, "end_time": 2000}]),
         "schedules.schedules[0].intervals[0]"),
        (("schedules", 0, "intervals", [{"start_time": 1380, "end_time": 1500}]),
         "schedules.schedules[0].intervals[0]"),
        (("schedules", 0, "intervals", [{"start_time": "09:00", "end_time": 2000}]),
         "schedules.schedules[0].intervals[0].start_time"),
        (("schedules", 0, "holidays", [{"start_date": "2026-12-24", "end_date": "2026-12-20"}]),
         "schedules.schedules[0].holidays[0].end_date"),
        (("schedules", 0, "holidays", [{"start_date": "24.12.2026"}]),
         "schedules.schedules[0].holidays[0].start_date"),
        (("policies", 0, "title", ""), "policies.sla_policies[0].title"),
        (("policies", 0, "position", "first"), "policies.sla_policies[0].position"),
    ],
)  # fmt: skip
def test_bad_exports_name_the_field(
    load: Callable[..., Any], change: tuple[str, int, str, Any], field: str
) -> None:
    given = exports(load)
    export, index, key, value = change
    rows = given[export]["schedules" if export == "schedules" else "sla_policies"]
    rows[index][key] = value
    with pytest.raises(PayloadError) as raised:
        export_to_policies(given)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("priority", "critical", "policy_metrics[0].priority"),
        ("target", 0, "policy_metrics[0].target"),
        ("business_hours", "yes", "policy_metrics[0].business_hours"),
    ],
)
def test_bad_targets_name_the_field(
    load: Callable[..., Any], key: str, value: Any, field: str
) -> None:
    given = exports(load)
    given["policies"]["sla_policies"][0]["policy_metrics"][0][key] = value
    with pytest.raises(PayloadError) as raised:
        export_to_policies(given)
    assert raised.value.field == f"policies.sla_policies[0].{field}"


@pytest.mark.parametrize("value", [False, 7, {"tag": "vip"}])
def test_tags_that_are_neither_text_nor_a_list_name_the_field(
    load: Callable[..., Any], value: Any
) -> None:
    given = exports(load)
    condition = {"field": "current_tags", "operator": "not_includes", "value": value}
    given["policies"]["sla_policies"][0]["filter"] = {"all": [condition], "any": []}
    with pytest.raises(PayloadError, match="expected tags as text or a list") as raised:
        export_to_policies(given)
    assert raised.value.field == "policies.sla_policies[0].filter.all[0].value"


def test_business_hours_without_a_schedule_is_an_error(load: Callable[..., Any]) -> None:
    with pytest.raises(PayloadError, match="no schedule"):
        export_to_policies({"policies": load("sla_policies.json"), "schedules": {"schedules": []}})


def test_unknown_metrics_are_kept_as_comments(load: Callable[..., Any]) -> None:
    given = exports(load)
    given["policies"]["sla_policies"][0]["policy_metrics"].append(
        {"priority": "low", "metric": "total_resolution_time", "target": 4320,
         "business_hours": True}
    )  # fmt: skip
    assert "# not imported: total_resolution_time 72h" in export_to_policies(given)


def test_single_objects_are_accepted(load: Callable[..., Any]) -> None:
    policy = {"sla_policy": load("sla_policies.json")["sla_policies"][1]}
    schedule = {"schedule": load("schedules.json")["schedules"][0]}
    text = export_to_policies({"policies": policy, "schedules": schedule})
    assert list(slarules.parse_policies(text).policies) == [
        "Enterprise (urgent)",
        "Enterprise (high)",
        "Enterprise (other priorities)",
    ]


def test_every_rails_zone_maps_to_a_known_iana_zone() -> None:
    assert len(RAILS_ZONES) >= 150
    for rails, zone in RAILS_ZONES.items():
        get_zone(zone)
        assert iana_zone(rails, "time_zone") == zone
    assert iana_zone("pacific time (us & canada)", "z") == "America/Los_Angeles"
    assert iana_zone("Asia/Tokyo", "z") == "Asia/Tokyo"  # an IANA name passes
    with pytest.raises(PayloadError, match="unknown time zone `Middle Earth`"):
        iana_zone("Middle Earth", "schedules[0].time_zone")


def test_holidays_may_be_the_whole_answer_of_the_holidays_call(load: Callable[..., Any]) -> None:
    given = exports(load)
    schedule = given["schedules"]["schedules"][0]
    schedule["holidays"] = {"holidays": schedule["holidays"], "next_page": None}
    assert '    holiday 2026-04-06 "Easter Monday"\n' in export_to_policies(given)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["policies", "schedules"]), st.data())
def test_any_changed_export_gives_a_valid_policy_file_or_names_the_field(
    export: str, data: st.DataObject
) -> None:
    given = exports(read_payload)
    given[export] = data.draw(mutated(given[export]))
    read = read_as_policy_file(lambda: export_to_policies(given), "zendesk.sla")
    event("policy file" if read else "payload error")
