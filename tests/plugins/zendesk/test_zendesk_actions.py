"""Ticket actions through Zendesk's REST API, against a real HTTP server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from conftest import settings_for
from slarules_zendesk import ZendeskAdapter

from slarules import Action, ActionContext, ActionError
from slarules.plugins import Plugins
from slarules.testing import HelpdeskServer, Response

TICKET = "/tickets/5158"
# A ticket with nothing scripted by default: each test scripts its answers.
OTHER = "/tickets/6001"
AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
GROUPS = {
    "groups": [
        {"id": 360004455661, "name": "Billing"},
        {"id": 360009988776, "name": "L2 Escalations"},
    ],
    "next_page": None,
}


def action(name: str, *args: str | None, ticket: str = "5158") -> Action:
    return Action(
        name=name,
        args=args,
        ticket=ticket,
        trigger="late",
        clock="first_response",
        cycle=1,
        at=AT,
        reason="first_response breached",
        key=f"5158/late/first_response:1/0/0/{name}",
    )


def run(
    adapter: ZendeskAdapter, name: str, *args: str | None, attempt: int = 1, ticket: str = "5158"
) -> None:
    context = ActionContext(source="zendesk", adapter=adapter, attempt=attempt)
    adapter.execute(action(name, *args, ticket=ticket), context)


def updates(server: HelpdeskServer) -> list[Any]:
    return [request.json() for request in server.requests_to("PUT", TICKET)]


@pytest.fixture(autouse=True)
def _scripted(server: HelpdeskServer, load: Callable[..., Any]) -> None:
    server.respond("PUT", TICKET, Response(200, load("ticket.json")))
    server.respond("PUT", TICKET + "/tags", Response(200, {"tags": ["billing", "vip"]}))
    server.respond("GET", TICKET, Response(200, load("ticket.json")))
    server.respond("GET", "/groups", Response(200, GROUPS))


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("notify", "SLA notice"),
        ("urge", "SLA reminder"),
        ("warn", "SLA warning"),
        ("escalate", "SLA escalation"),
    ],
)
def test_notes_are_private_comments_with_the_key(
    adapter: ZendeskAdapter, server: HelpdeskServer, name: str, heading: str
) -> None:
    run(adapter, name)
    [update] = updates(server)
    comment = update["ticket"]["comment"]
    assert comment["public"] is False
    first_line = comment["body"].splitlines()[0]
    assert first_line.startswith(heading)
    assert first_line.endswith(": first_response breached")
    key = f"5158/late/first_response:1/0/0/{name}"
    assert comment["body"].endswith(f"slarules action key: {key}")
    request = server.requests_to("PUT", TICKET)[0]
    assert request.headers["idempotency-key"] == key
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"].startswith("Basic ")


def test_the_message_of_notify_is_in_the_note(
    adapter: ZendeskAdapter, server: HelpdeskServer
) -> None:
    run(adapter, "notify", "360004455661", "ticket 5158: resolution due at 12:00")
    body = updates(server)[0]["ticket"]["comment"]["body"]
    assert "ticket 5158: resolution due at 12:00" in body.splitlines()


def test_the_notify_tag_rides_along(
    make_adapter: Callable[..., ZendeskAdapter], server: HelpdeskServer
) -> None:
    adapter = make_adapter(notify_tag="sla_notify")
    run(adapter, "notify")
    run(adapter, "warn")
    first, second = updates(server)
    assert first["ticket"]["additional_tags"] == ["sla_notify"]
    assert "additional_tags" not in second["ticket"]


def test_a_retried_note_is_not_written_twice(
    adapter: ZendeskAdapter, server: HelpdeskServer
) -> None:
    key = "5158/late/first_response:1/0/0/notify"
    written = {"id": 1, "body": f"SLA notice: x\n\nslarules action key: {key}", "public": False}
    server.respond(
        "GET", TICKET + "/comments", Response(200, {"comments": [written], "next_page": None})
    )
    run(adapter, "notify", attempt=2)
    assert updates(server) == []
    run(adapter, "urge", attempt=2)  # another key: written
    assert len(updates(server)) == 1


def test_escalate_moves_the_ticket_to_the_group_with_the_note(
    adapter: ZendeskAdapter, server: HelpdeskServer
) -> None:
    run(adapter, "escalate", "360004455661", "L2 Escalations")  # `escalate group "L2 …"`
    [update] = updates(server)
    assert update["ticket"]["group_id"] == 360009988776
    assert update["ticket"]["assignee_id"] is None
    assert update["ticket"]["comment"]["public"] is False


@pytest.mark.parametrize(
    ("args", "changes"),
    [
        (("360004455661", "l2 escalations"), {"group_id": 360009988776, "assignee_id": None}),
        (("360004455661",), {"group_id": 360004455661, "assignee_id": None}),
        (("9873843",), {"assignee_id": 9873843}),
    ],
)
def test_assign_sets_group_id_or_assignee_id(
    adapter: ZendeskAdapter, server: HelpdeskServer, args: tuple[str, ...], changes: Any
) -> None:
    run(adapter, "assign", *args)
    assert updates(server) == [{"ticket": changes}]


def test_assign_to_an_agent_by_email_looks_them_up(
    adapter: ZendeskAdapter, server: HelpdeskServer
) -> None:
    users = {"users": [{"id": 9870000, "email": "peter@acme.example", "role": "admin"}]}
    server.respond("GET", "/users/search", Response(200, users))
    run(adapter, "assign", "peter@acme.example")
    assert updates(server) == [{"ticket": {"assignee_id": 9870000}}]
    assert server.requests_to("GET", "/users/search")[0].query == {
        "query": "email:peter@acme.example"
    }


@pytest.mark.parametrize(
    ("field", "value", "changes"),
    [
        ("priority", "urgent", {"priority": "urgent"}),
        ("status", "pending", {"status": "pending"}),
        ("status", "solved", {"status": "solved"}),
        ("type", "problem", {"type": "problem"}),
        ("group", "Billing", {"group_id": 360004455661, "assignee_id": None}),
        ("assignee", "9873843", {"assignee_id": 9873843}),
        ("subject", "Refund pending", {"subject": "Refund pending"}),
    ],
)
def test_set_updates_one_field(
    adapter: ZendeskAdapter, server: HelpdeskServer, field: str, value: str, changes: Any
) -> None:
    run(adapter, "set", field, value)
    assert updates(server) == [{"ticket": changes}]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("priority", "critical"), "cannot set priority `critical`"),
        (("status", "closed"), "cannot set status `closed`"),
        (("colour", "red"), "cannot set `colour`"),
        (("priority",), "takes a field and a value"),
        (("group", "Nobody"), "no group `Nobody`"),
    ],
)
def test_set_refuses_what_zendesk_cannot_take(
    adapter: ZendeskAdapter, server: HelpdeskServer, args: tuple[str, ...], reason: str
) -> None:
    with pytest.raises(ActionError, match=reason) as raised:
        run(adapter, "set", *args)
    assert raised.value.permanent
    assert updates(server) == []


def test_safe_update_sends_the_stamp_and_a_409_is_retryable(
    make_adapter: Callable[..., ZendeskAdapter], server: HelpdeskServer, load: Callable[..., Any]
) -> None:
    adapter = make_adapter(safe_update="true")
    server.respond("GET", OTHER, Response(200, load("ticket.json")))
    server.respond(
        "PUT",
        OTHER,
        Response(409, {"error": "UpdateConflict", "description": "Safe Update prevented"}),
        Response(200, load("ticket.json")),
    )
    with pytest.raises(ActionError, match="409") as raised:
        run(adapter, "set", "priority", "urgent", ticket="6001")
    assert not raised.value.permanent
    run(adapter, "set", "priority", "urgent", attempt=2, ticket="6001")
    first, second = (request.json() for request in server.requests_to("PUT", OTHER))
    expected = {"priority": "urgent", "safe_update": True, "updated_stamp": "2026-03-02T14:30:00Z"}
    assert first == second == {"ticket": expected}
    assert len(server.requests_to("GET", OTHER)) == 2  # the stamp is read again each time


def test_with_safe_update_a_note_and_its_tag_go_without_it(
    make_adapter: Callable[..., ZendeskAdapter], server: HelpdeskServer
) -> None:
    adapter = make_adapter(safe_update="true", notify_tag="sla_notify")
    run(adapter, "notify")
    [update] = updates(server)
    assert update["ticket"]["additional_tags"] == ["sla_notify"]
    assert "safe_update" not in update["ticket"]
    assert server.requests_to("GET", TICKET) == []  # no stamp to read


def test_tag_adds_through_the_tags_endpoint(
    adapter: ZendeskAdapter, server: HelpdeskServer
) -> None:
    run(adapter, "tag", "sla_breached", "needs_review", "sla_breached")
    [request] = server.requests_to("PUT", TICKET + "/tags")
    assert request.json() == {"tags": ["sla_breached", "needs_review"]}
    assert updates(server) == []


def test_tag_refuses_tags_with_spaces(adapter: ZendeskAdapter) -> None:
    with pytest.raises(ActionError, match="have no spaces"):
        run(adapter, "tag", "sla breached")


def test_429_gives_retry_after(adapter: ZendeskAdapter, server: HelpdeskServer) -> None:
    server.respond(
        "PUT",
        OTHER,
        Response(429, {"error": "APIRateLimitExceeded"}, headers={"Retry-After": "37"}),
    )
    with pytest.raises(ActionError, match="429") as raised:
        run(adapter, "set", "priority", "high", ticket="6001")
    assert raised.value.retry_after == 37.0
    assert not raised.value.permanent


def test_500_is_retryable(adapter: ZendeskAdapter, server: HelpdeskServer) -> None:
    server.respond("PUT", OTHER, Response(500, b"Internal Server Error"))
    with pytest.raises(ActionError, match="500") as raised:
        run(adapter, "notify", ticket="6001")
    assert not raised.value.permanent
    assert raised.value.retry_after is None


def test_404_is_permanent(adapter: ZendeskAdapter, server: HelpdeskServer) -> None:
    server.respond(
        "PUT", OTHER, Response(404, {"error": "RecordNotFound", "description": "Not found"})
    )
    with pytest.raises(ActionError, match="404: Not found") as raised:
        run(adapter, "urge", ticket="6001")
    assert raised.value.permanent


def test_422_is_permanent(adapter: ZendeskAdapter, server: HelpdeskServer) -> None:
    body = {"error": "RecordInvalid", "description": "Record validation errors"}
    server.respond("PUT", OTHER, Response(422, body))
    with pytest.raises(ActionError) as raised:
        run(adapter, "set", "status", "pending", ticket="6001")
    assert raised.value.permanent


def test_an_unreachable_zendesk_is_retryable() -> None:
    settings = settings_for("http://127.0.0.1:9")  # nothing listens on the discard port
    adapter = Plugins(settings={"zendesk": settings}).adapter("zendesk")
    assert isinstance(adapter, ZendeskAdapter)
    with pytest.raises(ActionError, match="unreachable") as raised:
        run(adapter, "notify")
    assert not raised.value.permanent


def test_an_action_the_adapter_lacks_is_permanent(adapter: ZendeskAdapter) -> None:
    with pytest.raises(ActionError, match="cannot `webhook`") as raised:
        run(adapter, "webhook", "https://example.com")
    assert raised.value.permanent
