"""LiveAgent's Ticket, history rows and message groups as normalized events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from mutations import mutated, read_as_events
from slarules_liveagent import (
    AccountTime,
    events_from_change,
    events_from_history,
    events_from_messages,
    events_from_ticket,
)
from slarules_liveagent.translate import CHANGE_FIELDS

from slarules import PayloadError

PAYLOADS = Path(__file__).parent / "payloads"
AGENTS = {"a1b2c3d4", "a9e8d7c6"}


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text("utf-8"))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("letter", "status"),
    [
        ("I", "new"),
        ("N", "new"),
        ("T", "open"),
        ("P", "open"),
        ("C", "open"),
        ("A", "pending"),
        ("W", "hold"),
        ("R", "solved"),
        ("L", "closed"),
        ("X", "deleted"),
        ("B", "spam"),
    ],
)
def test_every_status_letter_has_its_normalized_status(letter: str, status: str) -> None:
    [event] = events_from_ticket({**load("ticket.json"), "status": letter})
    assert event.fields["status"] == status


@pytest.mark.parametrize(
    ("letter", "channel"),
    [
        ("E", "email"),
        ("B", "contact_button"),
        ("M", "contact_form"),
        ("I", "invitation"),
        ("C", "call"),
        ("W", "call_button"),
        ("F", "facebook"),
        ("A", "facebook_message"),
        ("T", "twitter"),
        ("Q", "forum"),
        ("S", "suggestion"),
    ],
)
def test_every_channel_letter_has_its_name(letter: str, channel: str) -> None:
    [event] = events_from_ticket({**load("ticket.json"), "channel_type": letter})
    assert event.fields["channel"] == channel


def test_a_blank_channel_is_no_channel() -> None:
    # A Rule's placeholder that renders empty, as `agentid` and `departmentid` may.
    [event] = events_from_ticket({**load("ticket.json"), "channel_type": ""})
    assert "channel" not in event.fields


def test_a_ticket_is_its_creation_in_account_time() -> None:
    [event] = events_from_ticket(
        load("ticket.json"), timezone="Europe/Bratislava", tag_names={"t01": "billing"}
    )
    assert (event.id, event.ticket, event.type) == (
        "created-fp80688h",
        "fp80688h",
        "ticket.created",
    )
    assert event.at == utc("2026-03-02T08:15:00")  # 09:15 in Bratislava, UTC+1 in March
    assert event.fields == {
        "status": "open",
        "group": "dep-billing",
        "assignee": "a1b2c3d4",
        "requester": "c7d1e2f3",
        "tags": ["billing", "t02"],  # an id with no known name stays an id
        "channel": "email",
        "subject": "Invoice 2026-0142 charged twice",
        "code": "XKG-NWQ-RCT",
        "custom": {"region": "EMEA", "seats": "120"},
    }


def test_account_time_follows_daylight_saving_time() -> None:
    summer = AccountTime("Europe/Bratislava")
    assert summer.parse("2026-07-01 09:00:00", "x") == utc("2026-07-01T07:00:00")
    assert summer.format(utc("2026-07-01T07:00:00")) == "2026-07-01 09:00:00"
    # Skipped by the spring change, and repeated by the autumn one: read as the core reads
    # wall-clock times, the instant of the change, and the first of the two.
    assert summer.parse("2026-03-29 02:30:00", "x") == utc("2026-03-29T01:00:00")
    assert summer.parse("2026-10-25 02:30:00", "x") == utc("2026-10-25T00:30:00")


def test_history_rows_become_the_changes_between_them() -> None:
    events = events_from_history("fp80688h", load("history.json"))
    # h5 repeats h4's status, agent and department: no change, no event.
    assert [(e.id, e.at, e.fields) for e in events] == [
        ("history-h2", utc("2026-03-02T09:20:41"), {"group": "dep-billing"}),
        ("history-h3", utc("2026-03-02T09:31:07"), {"status": "open", "assignee": "a1b2c3d4"}),
        ("history-h4", utc("2026-03-02T10:02:31"), {"status": "pending"}),
        ("history-h6", utc("2026-03-02T11:40:12"), {"status": "open"}),
    ]
    assert all(e.type == "ticket.updated" and e.actor.role == "system" for e in events)


def test_history_rows_without_ids_get_ids_that_do_not_change() -> None:
    rows = [
        {key: value for key, value in row.items() if key != "id"} for row in load("history.json")
    ]
    first = events_from_history("fp80688h", rows)
    again = events_from_history("fp80688h", list(reversed(rows)))
    assert [e.id for e in first] == [e.id for e in again]
    assert len({e.id for e in first}) == 4
    assert all(e.id.startswith("liveagent-") for e in first)


def test_message_groups_become_replies_by_role() -> None:
    events = events_from_messages(
        "fp80688h", load("messages.json"), AGENTS, created_at=utc("2026-03-02T09:15:00")
    )
    assert [(e.id, e.actor.id, e.actor.role, e.public) for e in events] == [
        ("message-m4", "a1b2c3d4", "agent", False),  # an internal group
        ("message-m5", "a1b2c3d4", "agent", True),  # an outgoing email
        ("message-m7", "a1b2c3d4", "agent", False),  # a note inside the email
        ("message-m9", "c7d1e2f3", "requester", True),  # the customer in a chat
        ("message-m10", "a1b2c3d4", "agent", True),  # the agent in that chat
    ]
    assert events[3].at == utc("2026-03-02T11:40:12")


def test_the_message_that_opened_the_ticket_is_not_a_reply() -> None:
    events = events_from_messages("fp80688h", load("messages.json")[:1], AGENTS)
    assert [(e.id, e.actor.role) for e in events] == [("message-m2", "requester")]
    opened = events_from_messages(
        "fp80688h", load("messages.json")[:1], AGENTS, created_at=utc("2026-03-02T09:15:00")
    )
    assert opened == []


@pytest.mark.parametrize("kind", ["3", "5", "C", "M", "F", "W", "6", "8"])
def test_conversation_messages_are_replies_of_their_author(kind: str) -> None:
    group = {"id": "g", "type": kind, "userid": "c7d1e2f3", "datecreated": "2026-03-02 12:00:00"}
    group["messages"] = [
        {
            "id": "from-contact",
            "userid": "c7d1e2f3",
            "type": "M",
            "datecreated": "2026-03-02 12:00:00",
        },
        {
            "id": "from-agent",
            "userid": "a9e8d7c6",
            "type": "Y",
            "datecreated": "2026-03-02 12:05:00",
        },
    ]
    events = events_from_messages("fp80688h", [group], AGENTS)
    assert [(e.actor.role, e.public) for e in events] == [("requester", True), ("agent", True)]


@pytest.mark.parametrize("kind", ["I", "U", "Z"])
def test_internal_groups_are_private_replies_by_agents(kind: str) -> None:
    message = {"id": "n", "userid": "a9e8d7c6", "type": "M", "datecreated": "2026-03-02 12:00:00"}
    [event] = events_from_messages("fp80688h", [{"type": kind, "messages": [message]}], AGENTS)
    assert (event.actor.role, event.public) == ("agent", False)


@pytest.mark.parametrize("kind", ["R", "J", "T", "G", "S", "P", "X", "B"])
def test_marker_and_other_groups_produce_no_event(kind: str) -> None:
    message = {"id": "x", "userid": "a9e8d7c6", "type": "M", "datecreated": "2026-03-02 12:00:00"}
    assert events_from_messages("fp80688h", [{"type": kind, "messages": [message]}], AGENTS) == []


def test_a_rule_change_carries_the_fields_it_concerns_at_date_changed() -> None:
    ticket = load("ticket.json")
    [status] = events_from_change("status_changed", ticket)
    [transfer] = events_from_change("transferred", ticket)
    [tags] = events_from_change("tags_changed", ticket, tag_names={"t01": "billing", "t02": "vip"})
    assert status.fields == {"status": "open"}
    assert transfer.fields == {"group": "dep-billing", "assignee": "a1b2c3d4"}
    assert tags.fields == {"tags": ["billing", "vip"]}
    assert status.at == utc("2026-03-02T11:40:12")
    assert len({status.id, transfer.id, tags.id}) == 3
    assert events_from_change("status_changed", ticket)[0].id == status.id


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: events_from_ticket({**load("ticket.json"), "status": "Q"}), "ticket.status"),
        (
            lambda: events_from_ticket({**load("ticket.json"), "channel_type": "Z"}),
            "ticket.channel_type",
        ),
        (lambda: events_from_ticket({**load("ticket.json"), "id": ""}), "ticket.id"),
        (
            lambda: events_from_ticket(
                {**load("ticket.json"), "date_created": "2026-03-02T09:15:00Z"}
            ),
            "ticket.date_created",
        ),
        (
            lambda: events_from_history(
                "fp80688h",
                [
                    {"status": "N", "date_from": "2026-03-02 09:00:00"},
                    {"status": "?", "date_from": "2026-03-02 10:00:00"},
                ],
            ),
            "history[1].status",
        ),
        (
            lambda: events_from_messages("fp80688h", [{"type": "3"}, {"type": "9"}], AGENTS),
            "message_groups[1].type",
        ),
        (
            lambda: events_from_messages(
                "fp80688h", [{"type": "3", "messages": [{"type": "M"}]}], AGENTS
            ),
            "message_groups[0].messages[0].datecreated",
        ),
    ],
)
def test_bad_values_are_payload_errors_naming_the_field(call: Any, field: str) -> None:
    with pytest.raises(PayloadError) as raised:
        call()
    assert raised.value.field == field


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["created", *CHANGE_FIELDS]), st.data())
def test_any_changed_ticket_gives_events_or_names_the_field(kind: str, data: st.DataObject) -> None:
    ticket = data.draw(mutated(load("ticket.json")))
    if kind == "created":
        read = read_as_events(lambda: events_from_ticket(ticket, timezone="Europe/Prague"))
    else:
        read = read_as_events(lambda: events_from_change(kind, ticket, timezone="Europe/Prague"))
    event(f"{'events' if read else 'payload error'}")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["history", "messages"]), st.data())
def test_any_changed_history_or_messages_give_events_or_name_the_field(
    name: str, data: st.DataObject
) -> None:
    rows = data.draw(mutated(load(f"{name}.json")))
    if name == "history":
        read = read_as_events(lambda: events_from_history("fp80688h", rows))
    else:
        read = read_as_events(lambda: events_from_messages("fp80688h", rows, AGENTS))
    event(f"{'events' if read else 'payload error'}")
