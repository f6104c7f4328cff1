"""Ticket actions through LiveAgent's API, against a real HTTP server."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slarules_liveagent import LiveAgentAdapter

from slarules import Action, ActionContext, ActionError
from slarules.plugins import Plugins
from slarules.testing import HelpdeskServer, Response

PAYLOADS = Path(__file__).parent / "payloads"
TICKET = r"/tickets/fp80688h"
AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text("utf-8"))


def action(name: str, *args: str | None) -> Action:
    return Action(
        name=name,
        args=args,
        ticket="fp80688h",
        trigger="late",
        clock="first_response",
        cycle=1,
        at=AT,
        reason="first_response breached",
        key=f"fp80688h/late/first_response:1/0/0/{name}",
    )


def build(url: str, **extra: str) -> LiveAgentAdapter:
    settings = {"base_url": url, "api_key": "la-api-key", "inbound_token": "x" * 16, **extra}
    adapter = Plugins(settings={"liveagent": settings}).adapter("liveagent")
    assert isinstance(adapter, LiveAgentAdapter)
    return adapter


@pytest.fixture
def server() -> Iterator[HelpdeskServer]:
    with HelpdeskServer() as running:
        running.respond("GET", TICKET, Response(200, load("ticket.json")))
        running.respond("PUT", TICKET, Response(200, {}))
        running.respond("PUT", TICKET + "/postpone", Response(200, {}))
        running.respond("GET", "/tags", Response(200, load("tags.json")))
        running.respond("GET", "/agents", Response(200, load("agents.json")))
        running.respond("GET", "/departments", Response(200, load("departments.json")))
        yield running


@pytest.fixture
def adapter(server: HelpdeskServer) -> LiveAgentAdapter:
    return build(server.url, timezone="Europe/Bratislava")


def run(adapter: LiveAgentAdapter, name: str, *args: str | None) -> None:
    adapter.execute(action(name, *args), ActionContext(source="liveagent", adapter=adapter))


def updates(server: HelpdeskServer) -> list[Any]:
    return [request.json() for request in server.requests_to("PUT", TICKET)]


@pytest.mark.parametrize(
    ("status", "letter"),
    [
        ("new", "N"),
        ("open", "C"),
        ("pending", "A"),
        ("solved", "R"),
        ("closed", "L"),
        ("deleted", "X"),
        ("spam", "B"),
    ],
)
def test_set_status_writes_only_the_status_letter(
    adapter: LiveAgentAdapter, server: HelpdeskServer, status: str, letter: str
) -> None:
    run(adapter, "set", "status", status)
    assert updates(server) == [{"status": letter}]
    assert server.requests[-1].headers["apikey"] == "la-api-key"


def test_hold_postpones_in_account_time(adapter: LiveAgentAdapter, server: HelpdeskServer) -> None:
    run(adapter, "set", "status", "hold")  # 24 hours from 11:00 in Bratislava
    run(adapter, "set", "postpone", "2026-03-05T09:00:00Z")
    postpones = [r.json() for r in server.requests_to("PUT", TICKET + "/postpone")]
    assert postpones == [{"date_time": "2026-03-03 11:00:00"}, {"date_time": "2026-03-05 10:00:00"}]
    assert updates(server) == []


def test_set_resolves_agents_departments_and_custom_fields(
    adapter: LiveAgentAdapter, server: HelpdeskServer
) -> None:
    run(adapter, "set", "assignee", "peter.horvath@example.com")
    run(adapter, "set", "group", "L2 Escalations")
    run(adapter, "set", "custom.region", "APAC")
    run(adapter, "set", "subject", "Refund pending")
    assert updates(server) == [
        {"agentid": "a9e8d7c6"},
        {"departmentid": "dep-l2"},
        {"custom_fields": [{"code": "region", "value": "APAC"}]},
        {"subject": "Refund pending"},
    ]


def test_assign_and_escalate_transfer_to_the_last_argument(
    adapter: LiveAgentAdapter, server: HelpdeskServer
) -> None:
    run(adapter, "assign", "dep-billing", "Jana Kral")  # `assign group "Jana Kral"`
    run(adapter, "escalate", "l2 escalations")
    assert updates(server) == [{"agentid": "a1b2c3d4"}, {"departmentid": "dep-l2"}]


def test_tags_are_read_merged_and_written_as_ids(
    adapter: LiveAgentAdapter, server: HelpdeskServer
) -> None:
    server.respond("POST", "/tags", Response(200, {"id": "t09", "name": "sla-breached"}))
    run(adapter, "tag", "vip", "sla-breached")
    assert updates(server) == [{"tags": ["t01", "t02", "t09"]}]
    assert server.requests_to("POST", "/tags")[0].json() == {
        "name": "sla-breached",
        "is_public": "N",
    }


def test_a_tag_already_there_writes_nothing(
    adapter: LiveAgentAdapter, server: HelpdeskServer
) -> None:
    run(adapter, "tag", "billing", "vip")
    assert updates(server) == []


@pytest.mark.parametrize("name", ["notify", "urge", "warn"])
def test_notify_urge_and_warn_add_the_notify_tag(
    adapter: LiveAgentAdapter, server: HelpdeskServer, name: str
) -> None:
    run(adapter, name, "a1b2c3d4", "resolution due soon")
    assert updates(server) == [{"tags": ["t01", "t02", "t03"]}]


def test_the_notify_tag_is_a_setting(server: HelpdeskServer) -> None:
    server.respond("POST", "/tags", Response(200, {"id": "t10", "name": "sla-alert"}))
    run(build(server.url, notify_tag="sla-alert"), "notify", None)
    assert updates(server) == [{"tags": ["t01", "t02", "t10"]}]


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("priority", "urgent"), "no priority field"),
        (("open", "hold"), "Write the field name in quotes"),
        (("status", "chatting"), "cannot set status `chatting`"),
        (("postpone", "tomorrow"), "not an instant"),
        (("postpone", "2026-03-05T09:00:00"), "not an instant"),
        (("assignee", "nobody@example.com"), "no agent `nobody@example.com`"),
        (("status",), "takes a field and a value"),
    ],
)
def test_actions_that_cannot_work_fail_permanently(
    adapter: LiveAgentAdapter, server: HelpdeskServer, args: tuple[str, ...], reason: str
) -> None:
    with pytest.raises(ActionError, match=reason) as raised:
        run(adapter, "set", *args)
    assert raised.value.permanent
    assert updates(server) == []


def test_transfer_to_an_unknown_name_fails_permanently(adapter: LiveAgentAdapter) -> None:
    with pytest.raises(ActionError, match="no agent or department `Night shift`") as raised:
        run(adapter, "escalate", "Night shift")
    assert raised.value.permanent


def test_throttling_is_retryable_after_the_delay_asked() -> None:
    with HelpdeskServer() as server:
        server.respond(
            "PUT", TICKET, Response(429, {"message": "Too many requests"}, {"Retry-After": "7"})
        )
        with pytest.raises(ActionError, match="429: Too many requests") as raised:
            run(build(server.url), "set", "status", "open")
    assert (raised.value.retry_after, raised.value.permanent) == (7.0, False)


def test_server_errors_are_retryable() -> None:
    with HelpdeskServer() as server:
        server.respond("PUT", TICKET, Response(503, b"<html>maintenance</html>"))
        with pytest.raises(ActionError, match="503") as raised:
            run(build(server.url), "set", "status", "open")
    assert (raised.value.retry_after, raised.value.permanent) == (None, False)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_permanent(status: int) -> None:
    with HelpdeskServer() as server:
        server.respond("PUT", TICKET, Response(status, {"message": "refused"}))
        with pytest.raises(ActionError, match=f"{status}: refused") as raised:
            run(build(server.url), "set", "status", "open")
    assert raised.value.permanent


def test_an_unreachable_account_is_retryable() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(ActionError, match="unreachable") as raised:
        run(build(f"http://127.0.0.1:{port}"), "set", "status", "open")
    assert not raised.value.permanent
