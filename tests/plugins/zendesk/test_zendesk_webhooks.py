"""Zendesk webhook bodies as normalized events: every event kind, trigger bodies, bad input."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import OWN_USER, PAYLOADS, read_payload
from hypothesis import event, given, settings
from hypothesis import strategies as st
from mutations import mutated, read_as_events
from slarules_zendesk import ZendeskAdapter, events_from_subscription, events_from_trigger
from slarules_zendesk.webhooks import IGNORED_KINDS

from slarules import Event, InboundRequest, PayloadError
from slarules.testing import HelpdeskServer, Response

RECEIVED = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def hook(load: Callable[..., Any], name: str) -> dict[str, Any]:
    body: dict[str, Any] = load(f"webhooks/{name}.json")
    return body


def one(body: dict[str, Any]) -> Event:
    events = events_from_subscription(body, {OWN_USER})
    assert len(events) == 1
    return events[0]


def no_fetch(ticket_id: str) -> dict[str, Any]:
    raise AssertionError(f"fetched ticket {ticket_id}, but the body was complete")


# -- event subscriptions -------------------------------------------------------------------


def test_created_carries_the_initial_fields_in_lower_case(load: Callable[..., Any]) -> None:
    event = one(hook(load, "created"))
    assert event.type == "ticket.created"
    assert event.id == "zendesk-created-5158"  # the same id as the creation found by backfill
    assert event.ticket == "5158"
    assert event.at == utc("2026-03-02T09:14:05.118Z")
    assert event.fields == {
        "status": "new",
        "priority": "normal",
        "type": "incident",
        "group": "360004455661",
        "assignee": None,
        "requester": "21875601",
        "organization": "361234567890",
        "brand": "360000123451",
        "form": "360000223452",
        "tags": ["billing", "vip"],
        "channel": "web",
        "subject": "Invoice charged twice",
    }
    assert (event.actor.id, event.actor.role) == ("21875601", "requester")


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("status_changed", {"status": "open"}),
        ("priority_changed", {"priority": "urgent"}),
        ("priority_cleared", {"priority": None}),
        ("agent_assignment_changed", {"assignee": "9873843"}),
        ("group_assignment_changed", {"group": "360009988776"}),
        ("requester_changed", {"requester": "21875777"}),
        ("organization_changed", {"organization": "361234500000"}),
        ("tags_changed", {"tags": ["billing", "escalated"]}),
        ("soft_deleted", {"status": "deleted"}),
        ("marked_as_spam", {"status": "deleted"}),
        ("undeleted", {"status": "open"}),
        ("merged", {"status": "closed"}),
        ("custom_status_changed", {"status": "pending", "custom_status": "1500007654321"}),
    ],
)
def test_changes_are_updates_of_the_changed_field(
    load: Callable[..., Any], name: str, fields: dict[str, Any]
) -> None:
    body = hook(load, name)
    event = one(body)
    assert event.type == "ticket.updated"
    assert event.fields == fields
    assert event.id == body["id"]  # Zendesk's event id: a redelivery is ingested once
    assert event.at == utc(body["time"])
    assert (event.actor.id, event.actor.role) == ("9873843", "agent")


@pytest.mark.parametrize(
    "status", ["NEW", "OPEN", "PENDING", "HOLD", "SOLVED", "CLOSED", "DELETED", "Open", "solved"]
)
def test_every_status_is_matched_case_insensitively(load: Callable[..., Any], status: str) -> None:
    body = hook(load, "status_changed")
    body["event"]["current"] = status
    assert one(body).fields == {"status": status.lower()}


@pytest.mark.parametrize("priority", ["LOW", "NORMAL", "HIGH", "URGENT", "High"])
def test_every_priority_is_matched_case_insensitively(
    load: Callable[..., Any], priority: str
) -> None:
    body = hook(load, "priority_changed")
    body["event"]["current"] = priority
    assert one(body).fields == {"priority": priority.lower()}


def test_the_requester_changing_the_ticket_acts_as_requester(load: Callable[..., Any]) -> None:
    body = hook(load, "status_changed")
    body["detail"]["actor_id"] = body["detail"]["requester_id"]
    assert one(body).actor.role == "requester"
    body["detail"]["actor_id"] = "-1"  # Zendesk's automations
    assert one(body).actor.role == "system"


@pytest.mark.parametrize(
    ("name", "role", "public", "comment_id"),
    [
        ("comment_added_agent_public", "agent", True, "41234567891"),
        ("comment_added_requester", "requester", True, "41234567892"),
        ("comment_added_internal_note", "agent", False, "41234567893"),
    ],
)
def test_comments_are_replies_by_role(
    load: Callable[..., Any], name: str, role: str, public: bool, comment_id: str
) -> None:
    event = one(hook(load, name))
    assert event.type == "ticket.replied"
    assert (event.actor.role, event.public) == (role, public)
    assert event.id == f"zendesk-comment-{comment_id}"
    assert event.fields == {}


def test_a_comment_by_an_end_user_copied_on_the_ticket_is_not_the_requesters(
    load: Callable[..., Any],
) -> None:
    body = hook(load, "comment_added_requester")
    body["event"]["comment"]["author"]["id"] = "55555"  # a CC, not requester 21875601
    assert one(body).actor.role == "system"
    del body["detail"]["requester_id"]  # nothing to tell them apart by: the requester's
    assert one(body).actor.role == "requester"


def test_the_engines_own_comments_are_not_replies(load: Callable[..., Any]) -> None:
    body = hook(load, "comment_added_by_engine")
    assert events_from_subscription(body, {OWN_USER}) == []
    # Without the `api_user_id` setting, the note's key line still gives it away.
    assert events_from_subscription(body, ()) == []
    body["event"]["comment"]["body"] = "A note written by hand with the bot's API token"
    assert events_from_subscription(body, {OWN_USER}) == []
    assert len(events_from_subscription(body, ())) == 1


@pytest.mark.parametrize("name", ["subject_changed", "comment_made_private"])
def test_kinds_that_do_not_concern_slas_give_no_events(load: Callable[..., Any], name: str) -> None:
    assert events_from_subscription(hook(load, name)) == []


@pytest.mark.parametrize("kind", sorted(IGNORED_KINDS))
def test_every_ignored_kind_gives_no_events(load: Callable[..., Any], kind: str) -> None:
    body = hook(load, "subject_changed")
    body["type"] = f"zen:event-type:ticket.{kind}"
    assert events_from_subscription(body) == []


def test_the_ticket_id_may_come_from_the_subject(load: Callable[..., Any]) -> None:
    body = hook(load, "status_changed")
    del body["detail"]["id"]
    assert one(body).ticket == "5158"


def _broken(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(body)
    *parents, last = path.split(".")
    target = broken
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return broken


_DELETE = object()


@pytest.mark.parametrize(
    ("name", "path", "value", "field", "reason"),
    [
        ("status_changed", "type", "zen:event-type:ticket.teleported", "type", "unknown"),
        ("status_changed", "type", "zen:event-type:user.created", "type", "expected"),
        ("status_changed", "type", _DELETE, "type", "expected"),
        ("status_changed", "id", _DELETE, "id", "required"),
        ("status_changed", "id", "", "id", "required"),
        ("status_changed", "time", _DELETE, "time", "required"),
        ("status_changed", "time", "yesterday", "time", "not an ISO-8601"),
        ("status_changed", "time", "2026-03-02T10:02:47", "time", "no UTC offset"),
        ("status_changed", "detail", _DELETE, "detail", "required"),
        ("status_changed", "event.current", "REOPENED", "event.current", "unknown value"),
        ("status_changed", "event", "OPEN", "event", "expected an object"),
        ("priority_changed", "event.current", "CRITICAL", "event.current", "unknown value"),
        ("created", "detail.status", "WAITING", "detail.status", "unknown value"),
        ("created", "detail.priority", 3, "detail.priority", "unknown value"),
        ("created", "detail.tags", 7, "detail.tags", "expected a list"),
        ("created", "detail.assignee_id", {"id": 1}, "detail.assignee_id", "expected an id"),
        ("tags_changed", "detail.tags", _DELETE, "detail.tags", "required"),
        ("comment_added_requester", "event.comment", _DELETE, "event.comment", "required"),
        (
            "comment_added_requester",
            "event.comment.author.is_staff",
            _DELETE,
            "event.comment.author.is_staff",
            "required",
        ),
        (
            "comment_added_requester",
            "event.comment.is_public",
            "yes",
            "event.comment.is_public",
            "required",
        ),
    ],
)
def test_bad_payloads_name_the_field(
    load: Callable[..., Any], name: str, path: str, value: Any, field: str, reason: str
) -> None:
    body = _broken(hook(load, name), path, value)
    if path == "detail.id":
        del body["subject"]
    with pytest.raises(PayloadError) as raised:
        events_from_subscription(body)
    assert raised.value.field == field
    assert reason in raised.value.reason


def test_a_missing_ticket_id_is_named(load: Callable[..., Any]) -> None:
    body = hook(load, "status_changed")
    del body["detail"]["id"], body["subject"]
    with pytest.raises(PayloadError, match=r"detail\.id"):
        events_from_subscription(body)


# -- trigger webhooks ----------------------------------------------------------------------


def test_a_trigger_body_with_its_fields_needs_no_api_call(load: Callable[..., Any]) -> None:
    [event] = events_from_trigger(load("trigger_status_changed.json"), no_fetch)
    assert event.type == "ticket.updated"
    assert event.fields == {"status": "pending"}
    assert event.at == utc("2026-03-02T13:05:44Z")
    assert event.id.startswith("zendesk-")
    # The same body delivered twice has the same id.
    [again] = events_from_trigger(load("trigger_status_changed.json"), no_fetch)
    assert again.id == event.id


def test_a_trigger_creation_carries_every_field(load: Callable[..., Any]) -> None:
    [event] = events_from_trigger(load("trigger_created.json"), no_fetch)
    assert event.type == "ticket.created"
    assert event.id == "zendesk-created-5158"
    assert event.fields == {
        "status": "new",
        "priority": "normal",
        "type": "incident",
        "group": "360004455661",
        "assignee": None,  # an empty placeholder
        "requester": "21875601",
        "tags": ["billing", "vip"],  # {{ticket.tags}} renders space-separated
        "channel": "email",
    }


def test_a_trigger_body_with_the_id_only_is_completed_from_the_api(
    load: Callable[..., Any], server: HelpdeskServer, adapter: ZendeskAdapter
) -> None:
    server.respond("GET", "/tickets/5158", Response(200, load("ticket.json")))
    body = json.dumps(load("trigger_id_only.json")).encode()
    [event] = adapter.parse(InboundRequest(body=body, received_at=RECEIVED))
    assert event.fields == {"status": "solved"}
    assert event.at == utc("2026-03-02T14:30:00Z")
    assert [r.path for r in server.requests] == ["/tickets/5158"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event": "exploded"}, "event"),
        ({"event": None}, "event"),
        ({"ticket_id": ""}, "ticket_id"),
        ({"status": "waiting"}, "status"),
        ({"updated_at": "13:05"}, "updated_at"),
        ({"tags": 7}, "tags"),
    ],
)
def test_bad_trigger_bodies_name_the_field(
    load: Callable[..., Any], change: dict[str, Any], field: str
) -> None:
    body = {**load("trigger_status_changed.json"), **change}
    with pytest.raises(PayloadError) as raised:
        events_from_trigger(body, no_fetch)
    assert raised.value.field == field


def test_a_trigger_body_without_its_event_is_told_so(adapter: ZendeskAdapter) -> None:
    body = json.dumps({"ticket_id": "5158", "status": "open"}).encode()
    with pytest.raises(PayloadError) as raised:
        adapter.parse(InboundRequest(body=body, received_at=RECEIVED))
    assert (raised.value.field, raised.value.reason.split(";")[0]) == ("event", "required")


@pytest.mark.parametrize(
    ("body", "field"),
    [(b"{not json", "body"), (b"[1, 2]", "body"), (b"\xff\xfe", "body")],
)
def test_bodies_that_are_not_json_objects_are_payload_errors(
    adapter: ZendeskAdapter, body: bytes, field: str
) -> None:
    with pytest.raises(PayloadError) as raised:
        adapter.parse(InboundRequest(body=body, received_at=RECEIVED))
    assert raised.value.field == field


WEBHOOKS = sorted(path.stem for path in (PAYLOADS / "webhooks").glob("*.json"))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(WEBHOOKS), st.data())
def test_any_changed_webhook_gives_events_or_names_the_field(
    name: str, data: st.DataObject
) -> None:
    body = data.draw(mutated(read_payload(f"webhooks/{name}.json")))
    read = read_as_events(lambda: events_from_subscription(body, {OWN_USER}))
    event(f"{'events' if read else 'payload error'}")


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["trigger_created", "trigger_status_changed", "trigger_id_only"]),
    st.data(),
)
def test_any_changed_trigger_body_or_fetched_ticket_gives_events_or_names_the_field(
    name: str, data: st.DataObject
) -> None:
    body, ticket = read_payload(f"{name}.json"), read_payload("ticket.json")["ticket"]
    if data.draw(st.booleans()):
        body = data.draw(mutated(body))
    else:
        ticket = data.draw(mutated(ticket))
    read = read_as_events(lambda: events_from_trigger(body, lambda ticket_id: ticket))
    event(f"{'events' if read else 'payload error'}")
