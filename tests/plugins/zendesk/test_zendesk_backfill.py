"""Backfill from ticket audits and the incremental ticket events export, through a local
server that pages like Zendesk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import read_payload
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mutations import mutated, read_as_events
from slarules_zendesk import ZendeskAdapter, events_from_audits

from slarules import Engine, PayloadError
from slarules.testing import HelpdeskServer, Response

AUDITS = r"/tickets/5158/audits"
EXPORT = "/incremental/ticket_events.json"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture(autouse=True)
def _users(server: HelpdeskServer, load: Callable[..., Any]) -> None:
    for user_id, body in load("users.json").items():
        server.respond("GET", f"/users/{user_id}", Response(200, body))


def script_audits(server: HelpdeskServer, load: Callable[..., Any]) -> None:
    first, second = load("audits_page1.json", server.url), load("audits_page2.json", server.url)
    server.respond("GET", AUDITS, Response(200, first), Response(200, second), repeat=False)


def summary(events: list[Any]) -> list[tuple[str, str, str, dict[str, Any], str, bool]]:
    return [
        (e.id, e.type.value, e.at.isoformat(), e.fields, e.actor.role, e.public) for e in events
    ]


def test_audits_become_the_tickets_events(
    adapter: ZendeskAdapter, server: HelpdeskServer, load: Callable[..., Any]
) -> None:
    script_audits(server, load)
    events = adapter.ticket_events("5158")
    created = {
        "status": "new",
        "priority": "normal",
        "type": "incident",
        "group": "360004455661",
        "requester": "21875601",
        "assignee": None,
        "tags": ["billing", "vip"],
        "channel": "web",
    }
    assert summary(events) == [
        ("zendesk-created-5158", "ticket.created", "2026-03-02T09:14:05+00:00", created,
         "requester", True),
        ("zendesk-audit-7100000000002", "ticket.updated", "2026-03-02T10:02:47+00:00",
         {"status": "open", "assignee": "9873843"}, "agent", True),
        ("zendesk-comment-7100000000201", "ticket.replied", "2026-03-02T10:02:47+00:00", {},
         "agent", True),
        ("zendesk-comment-7100000000301", "ticket.replied", "2026-03-02T11:40:12+00:00", {},
         "requester", True),
        ("zendesk-audit-7100000000004", "ticket.updated", "2026-03-02T11:45:00+00:00",
         {"priority": "high", "tags": ["billing", "escalated"]}, "agent", True),
        ("zendesk-comment-7100000000401", "ticket.replied", "2026-03-02T11:45:00+00:00", {},
         "agent", False),
        # The engine's own note (user 400000001) is left out; Zendesk's automations are system.
        ("zendesk-audit-7100000000006", "ticket.updated", "2026-03-02T14:30:00+00:00",
         {"status": "solved"}, "system", True),
    ]  # fmt: skip
    # Both pages were read; each author was looked up once, user -1 never.
    assert [r.query for r in server.requests_to("GET", AUDITS)] == [{}, {"page": "2"}]
    looked_up = [r.path for r in server.requests if r.path.startswith("/users/")]
    assert sorted(looked_up) == ["/users/21875601", "/users/9873843"]


def test_an_end_user_copied_on_the_ticket_comments_as_no_requester() -> None:
    def audit(number: int, author: int, *events: dict[str, Any]) -> dict[str, Any]:
        at = f"2026-03-02T1{number}:00:00Z"
        return {"id": number, "ticket_id": 5158, "created_at": at, "author_id": author,
                "events": list(events)}  # fmt: skip

    def comment(number: int, author: int) -> dict[str, Any]:
        return {"id": number, "type": "Comment", "author_id": author, "body": "?", "public": True}

    requester = {"type": "Create", "field_name": "requester_id", "value": "21875601"}
    audits = [audit(0, 21875601, requester), audit(1, 55555, comment(11, 55555)),
              audit(2, 21875601, comment(12, 21875601))]  # fmt: skip
    events = events_from_audits(audits, role_of=lambda user: "requester")  # end users, both
    assert [(e.id, e.actor.role) for e in events[1:]] == [
        ("zendesk-comment-11", "system"), ("zendesk-comment-12", "requester")]  # fmt: skip


def test_the_same_audits_give_the_same_ids_and_the_engine_ingests_them_once(
    adapter: ZendeskAdapter, server: HelpdeskServer, load: Callable[..., Any]
) -> None:
    script_audits(server, load)
    script_audits(server, load)
    first, second = adapter.ticket_events("5158"), adapter.ticket_events("5158")
    assert [e.id for e in first] == [e.id for e in second]
    engine = Engine.from_text('policy "All" { calendar always  first_response within 1h }')
    engine.ingest_many(first, source="zendesk")
    engine.ingest_many(second, source="zendesk")
    [clock] = engine.clocks("5158", utc("2026-03-02T15:00:00Z"))
    assert clock.metric == "first_response"
    assert clock.state == "met"
    assert clock.elapsed.total_seconds() == 48 * 60 + 42  # 09:14:05 to the reply at 10:02:47


def test_a_webhook_creation_and_the_backfilled_one_share_their_id(
    adapter: ZendeskAdapter, server: HelpdeskServer, load: Callable[..., Any]
) -> None:
    from slarules_zendesk import events_from_subscription

    script_audits(server, load)
    [hooked] = events_from_subscription(load("webhooks/created.json"))
    assert hooked.id == adapter.ticket_events("5158")[0].id


def test_the_export_follows_next_page_until_the_end_of_the_stream(
    adapter: ZendeskAdapter, server: HelpdeskServer, load: Callable[..., Any]
) -> None:
    pages = (
        load("ticket_events_page1.json", server.url),
        load("ticket_events_page2.json", server.url),
    )
    server.respond("GET", EXPORT, *(Response(200, page) for page in pages), repeat=False)
    batch = adapter.export_events(utc("2026-03-03T00:00:00Z"))
    requests = server.requests_to("GET", EXPORT)
    assert [r.query for r in requests] == [
        {"start_time": "1772496000", "include": "comment_events"},
        {"start_time": "1772526000"},
    ]
    assert batch.end_time == utc("2026-03-03T10:00:00Z")
    assert summary(batch.events) == [
        ("zendesk-created-6001", "ticket.created", "2026-03-03T08:00:00+00:00",
         {"status": "new", "priority": "urgent", "tags": ["network"], "group": "360004455661"},
         "requester", True),
        ("zendesk-audit-7200000000002", "ticket.updated", "2026-03-03T08:20:00+00:00",
         {"status": "open"}, "agent", True),
        ("zendesk-comment-7200000000201", "ticket.replied", "2026-03-03T08:20:00+00:00", {},
         "agent", True),
        ("zendesk-comment-7200000000301", "ticket.replied", "2026-03-03T09:00:00+00:00", {},
         "requester", True),
        ("zendesk-audit-7200000000005", "ticket.updated", "2026-03-03T10:00:00+00:00",
         {"status": "solved"}, "system", True),
    ]  # fmt: skip
    server.respond("GET", EXPORT, *(Response(200, page) for page in pages), repeat=False)
    assert list(adapter.reconcile(utc("2026-03-03T00:00:00Z"))) == batch.events


def test_a_429_in_the_export_says_when_to_try_again(
    adapter: ZendeskAdapter, server: HelpdeskServer
) -> None:
    from slarules import ActionError

    server.respond("GET", EXPORT, Response(429, {}, headers={"Retry-After": "60"}))
    with pytest.raises(ActionError) as raised:
        adapter.export_events(utc("2026-03-03T00:00:00Z"))
    assert raised.value.retry_after == 60.0


def test_next_page_on_another_host_is_not_followed(
    adapter: ZendeskAdapter, server: HelpdeskServer, load: Callable[..., Any]
) -> None:
    from slarules import ActionError

    page = load("ticket_events_page1.json", "https://evil.example.com/api/v2")
    server.respond("GET", EXPORT, Response(200, page))
    with pytest.raises(ActionError, match="leaves the API"):
        adapter.export_events(utc("2026-03-03T00:00:00Z"))


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("created_at", "noon", "audits[0].created_at"),
        ("ticket_id", None, "audits[0].ticket_id"),
        ("id", None, "audits[0].id"),
        ("events", "none", "audits[0].events"),
    ],
)
def test_bad_audits_name_the_field(
    load: Callable[..., Any], path: str, value: Any, field: str
) -> None:
    audit = {**load("audits_page1.json")["audits"][1], path: value}
    with pytest.raises(PayloadError) as raised:
        events_from_audits([audit], lambda _: "agent")
    assert raised.value.field == field


def test_a_bad_value_in_an_audit_event_is_named(load: Callable[..., Any]) -> None:
    audit = load("audits_page1.json")["audits"][1]
    audit["events"][1]["value"] = "reopened"
    with pytest.raises(PayloadError) as raised:
        events_from_audits([audit], lambda _: "agent")
    assert raised.value.field == "audits[0].events[1].value"


# The users' server of every test here is not needed: the audits are read alone.
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(["audits_page1", "audits_page2"]), st.data())
def test_any_changed_audits_give_events_or_name_the_field(name: str, data: st.DataObject) -> None:
    audits = data.draw(mutated(read_payload(f"{name}.json")["audits"]))
    read = read_as_events(lambda: events_from_audits(audits, lambda _: "agent"))
    event(f"{'events' if read else 'payload error'}")
