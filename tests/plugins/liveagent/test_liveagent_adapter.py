"""The adapter found through its entry point: settings, tokens, Rules' requests, reconciliation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from slarules_liveagent import LiveAgentAdapter, LiveAgentClient

from slarules import AuthenticationError, Engine, InboundRequest, PayloadError, PluginError
from slarules.plugins import Plugins
from slarules.testing import HelpdeskServer, Response

PAYLOADS = Path(__file__).parent / "payloads"
TOKEN = "k3Jd9sQ0-rules-token"
RECEIVED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
GOLD = (
    'policy "Gold" { applies when sla_level == "Gold"  calendar always  first_response within 1h }'
)


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text("utf-8"))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def settings_for(server: HelpdeskServer, **extra: str) -> dict[str, str]:
    return {"base_url": server.url, "api_key": "la-api-key", "inbound_token": TOKEN, **extra}


def rule_request(body: object, token: str | None = TOKEN) -> InboundRequest:
    headers = {"X-Slarules-Token": token} if token else {}
    return InboundRequest(body=json.dumps(body).encode(), headers=headers, received_at=RECEIVED)


@pytest.fixture
def server() -> Iterator[HelpdeskServer]:
    with HelpdeskServer() as running:
        running.respond("GET", "/tags", Response(200, load("tags.json")))
        running.respond("GET", "/agents", Response(200, load("agents.json")))
        yield running


@pytest.fixture
def adapter(server: HelpdeskServer) -> LiveAgentAdapter:
    built = Plugins(settings={"liveagent": settings_for(server)}).adapter("liveagent")
    assert isinstance(built, LiveAgentAdapter)
    return built


# -- settings ------------------------------------------------------------------------------


def test_the_adapter_is_found_through_its_entry_point() -> None:
    spec = Plugins().adapters["liveagent"]
    assert spec.actions == {"set", "tag", "assign", "escalate", "notify", "urge", "warn"}
    assert spec.importer is not None
    assert spec.importer.inputs == ("slas",)


def test_settings_come_from_the_environment_too() -> None:
    environ = {
        "SLARULES_LIVEAGENT_ACCOUNT": "acme",
        "SLARULES_LIVEAGENT_API_KEY": "la-api-key",
        "SLARULES_LIVEAGENT_INBOUND_TOKEN": TOKEN,
        "SLARULES_LIVEAGENT_TIMEZONE": "Europe/Bratislava",
        "SLARULES_LIVEAGENT_HOLD_HOURS": "48",
    }
    built = Plugins(environ=environ).adapter("liveagent")
    assert isinstance(built, LiveAgentAdapter)
    assert built.settings.api_url == "https://acme.ladesk.com/api/v3"
    assert (built.settings.timezone, built.settings.hold_hours) == ("Europe/Bratislava", 48)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"account": "acme", "inbound_token": TOKEN}, "SLARULES_LIVEAGENT_API_KEY"),
        ({"account": "acme", "api_key": "k"}, "SLARULES_LIVEAGENT_INBOUND_TOKEN"),
        (
            {"account": "acme", "api_key": "k", "inbound_token": "short"},
            "SLARULES_LIVEAGENT_INBOUND_TOKEN",
        ),
        ({"api_key": "k", "inbound_token": TOKEN}, "SLARULES_LIVEAGENT_ACCOUNT"),
        (
            {"account": "acme", "base_url": "http://x", "api_key": "k", "inbound_token": TOKEN},
            "SLARULES_LIVEAGENT_BASE_URL",
        ),
        (
            {
                "account": "acme",
                "api_key": "k",
                "inbound_token": TOKEN,
                "timezone": "Europe/Bratislav",
            },
            "SLARULES_LIVEAGENT_TIMEZONE",
        ),
        (
            {"account": "acme", "api_key": "k", "inbound_token": TOKEN, "hold_hours": "0"},
            "SLARULES_LIVEAGENT_HOLD_HOURS",
        ),
        (
            {"account": "acme", "api_key": "k", "inbound_token": TOKEN, "notify_tags": "x"},
            "SLARULES_LIVEAGENT_NOTIFY_TAGS",
        ),
    ],
)
def test_bad_settings_are_plugin_errors_naming_the_variable(
    settings: dict[str, str], named: str
) -> None:
    with pytest.raises(PluginError, match=named):
        Plugins(settings={"liveagent": settings}, environ={}).adapter("liveagent")


# -- authentication ------------------------------------------------------------------------


def test_the_token_is_accepted_in_the_header_or_the_query(adapter: LiveAgentAdapter) -> None:
    adapter.authenticate(rule_request({}))
    adapter.authenticate(InboundRequest(body=b"{}", query={"token": TOKEN}, received_at=RECEIVED))


@pytest.mark.parametrize(("token", "reason"), [(None, "missing token"), ("guess", "wrong token")])
def test_requests_without_the_token_are_refused(
    adapter: LiveAgentAdapter, token: str | None, reason: str
) -> None:
    with pytest.raises(AuthenticationError, match=reason) as raised:
        adapter.authenticate(rule_request({}, token=token))
    assert TOKEN not in str(raised.value)


# -- Rules' requests -----------------------------------------------------------------------


def test_a_status_change_is_an_update_with_tag_names(
    adapter: LiveAgentAdapter, server: HelpdeskServer
) -> None:
    body = {"event": "status_changed", "ticket": load("ticket.json"), "sla_level": "Gold"}
    [event] = adapter.parse(rule_request(body))
    assert (event.type, event.ticket, event.at) == (
        "ticket.updated",
        "fp80688h",
        utc("2026-03-02T11:40:12"),
    )
    assert event.fields == {"status": "open", "sla_level": "Gold"}
    [tags] = adapter.parse(rule_request({**body, "event": "tags_changed"}))
    assert tags.fields["tags"] == ["billing", "vip"]
    assert [r.path for r in server.requests] == ["/tags"]  # the names are kept
    assert server.requests[0].headers["apikey"] == "la-api-key"


def test_a_ticket_given_by_id_alone_is_fetched(
    adapter: LiveAgentAdapter, server: HelpdeskServer
) -> None:
    server.respond("GET", "/tickets/fp80688h", Response(200, load("ticket.json")))
    [event] = adapter.parse(rule_request({"event": "transferred", "ticket": {"id": "fp80688h"}}))
    assert event.fields == {"group": "dep-billing", "assignee": "a1b2c3d4"}
    assert server.requests_to("GET", "/tickets/fp80688h")


def test_a_new_ticket_is_created_with_its_level(adapter: LiveAgentAdapter) -> None:
    body = {"event": "ticket_created", "ticket": load("ticket.json"), "sla_level": "Gold"}
    [event] = adapter.parse(rule_request(body))
    assert (event.id, event.type) == ("created-fp80688h", "ticket.created")
    assert event.fields["sla_level"] == "Gold"
    assert event.fields["tags"] == ["billing", "vip"]


def test_an_added_message_group_is_replies_with_roles_from_the_agent_list(
    adapter: LiveAgentAdapter, server: HelpdeskServer
) -> None:
    chat = load("messages.json")[5]
    body = {"event": "message_added", "ticket": load("ticket.json"), "message_group": chat}
    events = adapter.parse(rule_request(body))
    assert [(e.id, e.actor.role) for e in events] == [
        ("message-m9", "requester"),
        ("message-m10", "agent"),
    ]
    adapter.parse(rule_request(body))
    assert len(server.requests_to("GET", "/agents")) == 1  # the contact is remembered


def test_without_its_group_an_added_message_fetches_the_messages(
    adapter: LiveAgentAdapter, server: HelpdeskServer
) -> None:
    server.respond("GET", "/tickets/fp80688h/messages", Response(200, load("messages.json")))
    body = {"event": "message_added", "ticket": load("ticket.json")}
    events = adapter.parse(rule_request(body))
    assert [e.id for e in events] == [
        "message-m4",
        "message-m5",
        "message-m7",
        "message-m9",
        "message-m10",
    ]
    [fetch] = server.requests_to("GET", "/tickets/fp80688h/messages")
    assert (fetch.query["_page"], fetch.query["_perPage"]) == ("1", "100")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (b'{"event": "ticket_deleted", "ticket": {"id": "x"}}', "event"),
        (b'{"event": "status_changed"}', "ticket"),
        (b'{"event": "status_changed", "ticket": {"subject": "no id"}}', "ticket.id"),
        (
            b'{"event": "message_added", "ticket": {"id": "x"}, "message_group": []}',
            "message_group",
        ),
        (b'{"event": "status_changed", "ticket": {"id": "x"}, "sla_level": 3}', "sla_level"),
    ],
)
def test_bad_bodies_are_payload_errors_naming_the_field(
    adapter: LiveAgentAdapter, body: bytes, field: str
) -> None:
    request = InboundRequest(body=body, headers={"X-Slarules-Token": TOKEN}, received_at=RECEIVED)
    with pytest.raises(PayloadError) as raised:
        adapter.parse(request)
    assert raised.value.field == field


def test_the_engine_receives_rules_requests(server: HelpdeskServer) -> None:
    policy = GOLD
    engine = Engine.from_text(
        policy, settings={"liveagent": settings_for(server, timezone="Europe/Bratislava")}
    )
    created = {"event": "ticket_created", "ticket": load("ticket.json"), "sla_level": "Gold"}
    engine.receive("liveagent", rule_request(created))
    [clock] = engine.clocks("fp80688h", now=utc("2026-03-02T08:45:00"))
    assert (clock.policy, clock.due_at) == ("Gold", utc("2026-03-02T09:15:00"))
    with pytest.raises(AuthenticationError):
        engine.receive("liveagent", rule_request(created, token="guess"))
    assert [item.stage for item in engine.rejected] == ["authentication"]


# -- reconciliation ------------------------------------------------------------------------


def test_changed_since_filters_sorts_and_pages(
    adapter: LiveAgentAdapter, server: HelpdeskServer
) -> None:
    first_page = [{"id": f"t{n}"} for n in range(100)]
    server.respond("GET", "/tickets", Response(200, first_page), Response(200, [{"id": "t100"}]))
    client = LiveAgentClient(server.url, "la-api-key", adapter.client.account_time)
    tickets = list(client.changed_since(utc("2026-03-02T08:00:00")))
    assert len(tickets) == 101
    pages = server.requests_to("GET", "/tickets")
    assert [page.query["_page"] for page in pages] == ["1", "2"]
    assert json.loads(pages[0].query["_filters"]) == [["date_changed", ">", "2026-03-02 08:00:00"]]
    assert (pages[0].query["_sortField"], pages[0].query["_sortDir"]) == ("date_changed", "ASC")


def test_an_endpoint_that_does_not_page_is_read_once(adapter: LiveAgentAdapter) -> None:
    tags = [{"id": f"t{n}", "name": f"tag {n}"} for n in range(100)]
    with HelpdeskServer() as api:
        # The same rows whatever `_page` asks for, three times; then no more answers.
        api.respond("GET", "/tags", *[Response(200, tags)] * 3, repeat=False)
        client = LiveAgentClient(api.url, "la-api-key", adapter.client.account_time)
        assert client.tags() == tags
        assert len(api.requests_to("GET", "/tags")) == 2  # the second page repeats the first


def test_reconciliation_rebuilds_the_tickets_story(server: HelpdeskServer) -> None:
    server.respond("GET", "/tickets", Response(200, [{"id": "fp80688h"}]))
    server.respond("GET", "/tickets/fp80688h", Response(200, load("ticket.json")))
    server.respond("GET", "/tickets/fp80688h/history", Response(200, load("history.json")))
    server.respond("GET", "/tickets/fp80688h/messages", Response(200, load("messages.json")))
    server.respond("GET", "/tickets/fp80688h/sla", Response(200, {"sla_level_name": "Gold"}))
    settings = {"liveagent": settings_for(server)}
    policy = GOLD
    engine = Engine.from_text(policy, settings=settings)
    adapter = engine.plugins.adapter("liveagent")
    assert isinstance(adapter, LiveAgentAdapter)

    events = list(adapter.reconcile(utc("2026-03-02T00:00:00")))
    created = events[0]
    assert created.fields["status"] == "new"  # as created, not as it is now
    assert (created.fields["group"], created.fields["assignee"]) == ("dep-support", None)
    assert created.fields["sla_level"] == "Gold"
    assert [e.id for e in events[1:5]] == ["history-h2", "history-h3", "history-h4", "history-h6"]

    engine.ingest_many(events, source="liveagent")
    engine.ingest_many(adapter.reconcile(utc("2026-03-02T00:00:00")), source="liveagent")
    assert engine.stats.duplicates == len(events)
    [clock] = engine.clocks("fp80688h", now=utc("2026-03-02T12:00:00"))
    assert (clock.state, clock.elapsed.total_seconds()) == ("met", 2851.0)  # answered 10:02:31


def test_a_ticket_without_a_level_is_reconciled_without_one(
    server: HelpdeskServer, adapter: LiveAgentAdapter
) -> None:
    server.respond("GET", "/tickets/fp80688h", Response(200, load("ticket.json")))
    server.respond("GET", "/tickets/fp80688h/history", Response(200, []))
    server.respond("GET", "/tickets/fp80688h/messages", Response(200, []))
    server.respond("GET", "/tickets/fp80688h/sla", Response(404, {"message": "no SLA"}))
    [created] = adapter.ticket_events("fp80688h")
    assert "sla_level" not in created.fields
