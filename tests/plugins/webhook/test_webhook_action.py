"""The outbound `webhook` action and forwarded ticket actions, against a real HTTP server on
127.0.0.1: the exact request, its signature, and what each answer means for retries."""

from __future__ import annotations

import itertools
import json
import random
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import FakeClock
from slarules_webhook import WebhookAction, generate_secret, verify_signature

from slarules import Action, ActionContext, ActionError, Engine, PluginError, load_policies
from slarules.plugins import Plugins
from slarules.runtime import Backoff, Runtime
from slarules.store import SqliteStore
from slarules.testing import HelpdeskServer, RecordedRequest, Response

SECRET = generate_secret()
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SIGNED_AT = 1772442123  # the Unix seconds of the signatures made with a fixed clock
CORPUS = Path(__file__).resolve().parents[2] / "language"
HOOK = "/sla"


def make_action(**changes: Any) -> Action:
    fields: dict[str, Any] = {
        "name": "webhook",
        "args": ("https://hooks.example.com/sla", "resolution due at 11:00"),
        "ticket": "T-1042",
        "trigger": "late",
        "clock": "first_response",
        "cycle": 1,
        "at": START + timedelta(hours=1),
        "reason": "first_response breached",
        "key": "T-1042/late/first_response:1/0/0",
    }
    return Action(**{**fields, **changes})


def to(server: Endpoint, **changes: Any) -> Action:
    return make_action(args=(server.url + HOOK, "resolution due at 11:00"), **changes)


def context(**settings: str) -> ActionContext:
    return ActionContext(settings={"signing_secret": SECRET, **settings}, attempt=1)


class Endpoint:
    """One path of a server shared by the module (a server takes half a second to stop): its
    own scripted answers and its own recorded requests."""

    def __init__(self, server: Endpoint, path: str) -> None:
        self.server = server
        self.path = path
        self.url = server.url + path

    def respond(self, *responses: Response, under: str = re.escape(HOOK)) -> None:
        self.server.respond("POST", re.escape(self.path) + under, *responses)

    @property
    def requests(self) -> list[RecordedRequest]:
        return [r for r in self.server.requests if r.path.startswith(self.path + "/")]


@pytest.fixture(scope="module")
def shared_server() -> Iterator[HelpdeskServer]:
    with HelpdeskServer() as running:
        yield running


@pytest.fixture
def server(shared_server: Endpoint) -> Endpoint:
    return Endpoint(shared_server, f"/receiver-{next(_ENDPOINTS)}")


_ENDPOINTS = itertools.count()


def fixed_clock() -> WebhookAction:
    return WebhookAction(clock=lambda: SIGNED_AT)


def assert_signed(request: RecordedRequest, now: datetime) -> None:
    assert (
        verify_signature(request.body, request.headers, SECRET, now=now)
        == (request.headers["webhook-id"])
    )


# -- the request -------------------------------------------------------------------------------


def test_the_request_carries_the_action_signed(server: Endpoint) -> None:
    server.respond(Response(204))
    action = to(server)
    fixed_clock().execute(action, context())

    [request] = server.requests
    assert (request.method, request.path) == ("POST", server.path + HOOK)
    assert request.json() == {
        "type": "slarules.action",
        "timestamp": "2026-03-02T10:00:00Z",
        "data": {
            "name": "webhook",
            "args": [server.url + HOOK, "resolution due at 11:00"],
            "ticket": "T-1042",
            "trigger": "late",
            "clock": "first_response",
            "cycle": 1,
            "at": "2026-03-02T10:00:00Z",
            "reason": "first_response breached",
            "key": "T-1042/late/first_response:1/0/0",
        },
    }
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == headers["idempotency-key"] == action.key
    assert headers["webhook-timestamp"] == str(SIGNED_AT)
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["slarules-attempt"] == "1"
    assert headers["user-agent"].startswith("slarules-webhook/")
    assert_signed(request, datetime.fromtimestamp(SIGNED_AT, UTC))


def test_every_attempt_sends_the_same_body_with_its_own_signature(server: Endpoint) -> None:
    server.respond(Response(200))
    action = to(server)
    WebhookAction(clock=lambda: SIGNED_AT).execute(action, context())
    WebhookAction(clock=lambda: SIGNED_AT + 60).execute(action, context())
    first, second = server.requests
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"]


def test_a_key_that_is_not_printable_ascii_is_percent_encoded_in_headers(
    server: Endpoint,
) -> None:
    server.respond(Response(200))
    action = to(server, ticket="Заявка 7", key="Заявка 7/late/0\r\nX-Injected: 1")
    fixed_clock().execute(action, context())
    [request] = server.requests
    assert "x-injected" not in request.headers
    assert request.headers["webhook-id"] == (
        "%D0%97%D0%B0%D1%8F%D0%B2%D0%BA%D0%B0%207/late/0%0D%0AX-Injected:%201"
    )
    assert request.json()["data"]["key"] == action.key  # the body has it as it is
    assert_signed(request, datetime.fromtimestamp(SIGNED_AT, UTC))


# -- answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_server_errors_are_retryable(server: Endpoint, status: int) -> None:
    server.respond(Response(status))
    with pytest.raises(ActionError, match=f"answered {status}") as raised:
        fixed_clock().execute(to(server), context())
    assert (raised.value.permanent, raised.value.retry_after) == (False, None)


def test_throttling_says_when_to_come_back(server: Endpoint) -> None:
    server.respond(Response(429, headers={"Retry-After": "7"}))
    with pytest.raises(ActionError, match="answered 429") as raised:
        fixed_clock().execute(to(server), context())
    assert (raised.value.permanent, raised.value.retry_after) == (False, 7.0)


def test_retry_after_may_be_an_http_date(server: Endpoint) -> None:
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))
    server.respond(Response(503, headers={"Retry-After": later}))
    with pytest.raises(ActionError) as raised:
        fixed_clock().execute(to(server), context())
    assert raised.value.retry_after is not None
    assert 100 <= raised.value.retry_after <= 121


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_client_errors_are_permanent(server: Endpoint, status: int) -> None:
    server.respond(Response(status))
    with pytest.raises(ActionError, match=f"answered {status}") as raised:
        fixed_clock().execute(to(server), context())
    assert raised.value.permanent


def test_redirects_are_not_followed(server: Endpoint) -> None:
    server.respond(Response(301, headers={"Location": "https://elsewhere.example/"}))
    with pytest.raises(ActionError, match="redirects are not followed") as raised:
        fixed_clock().execute(to(server), context())
    assert raised.value.permanent
    assert len(server.requests) == 1


def test_a_receiver_that_is_down_is_retryable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    action = make_action(args=(f"http://127.0.0.1:{port}/sla",))
    with pytest.raises(ActionError, match="failed: ConnectError") as raised:
        fixed_clock().execute(action, context())
    assert not raised.value.permanent


def test_a_slow_receiver_times_out_and_is_retryable(server: Endpoint) -> None:
    server.respond(Response(200, delay=1.0))
    with pytest.raises(ActionError, match=r"timed out after 0\.2 s") as raised:
        fixed_clock().execute(to(server), context(timeout_seconds="0.2"))
    assert not raised.value.permanent


# -- what the action refuses -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "needs a URL"),
        ((None,), "needs a URL"),
        (("hooks.example.com/sla",), "is not an http:// or https:// URL"),
        (("file:///etc/passwd",), "is not an http:// or https:// URL"),
    ],
)
def test_a_bad_url_is_permanent(args: tuple[str | None, ...], message: str) -> None:
    with pytest.raises(ActionError, match=message) as raised:
        fixed_clock().execute(make_action(args=args), context())
    assert raised.value.permanent


def test_allowed_urls_limit_where_webhooks_go(server: Endpoint) -> None:
    server.respond(Response(200))
    allowed = context(allowed_urls=f"https://hooks.example.com/ {server.url}/")
    fixed_clock().execute(to(server), allowed)
    with pytest.raises(ActionError, match="is not under `SLARULES_WEBHOOK_ALLOWED_URLS`") as raised:
        fixed_clock().execute(make_action(args=("https://evil.example/x",)), allowed)
    assert raised.value.permanent


def test_webhooks_are_never_sent_unsigned(server: Endpoint) -> None:
    with pytest.raises(PluginError, match="`SLARULES_WEBHOOK_SIGNING_SECRET`"):
        fixed_clock().execute(to(server), ActionContext(settings={}))
    with pytest.raises(PluginError, match=r"\(signing_secret\): not a Standard Webhooks secret"):
        fixed_clock().execute(to(server), ActionContext(settings={"signing_secret": "hunter2"}))
    assert server.requests == []


# -- through the engine and the runtime ---------------------------------------------------------

POLICY = """
policy "All" {
    applies when true
    calendar always
    first_response within 1h
}
trigger "late" when first_response.breached then webhook "%s"
"""
CREATED = {"id": "e1", "ticket": "T-1042", "type": "ticket.created", "at": "2026-03-02T09:00:00Z"}


def test_the_plugin_is_found_through_its_entry_point() -> None:
    plugins = Plugins(settings={"webhook": {"signing_secret": SECRET}})
    assert "webhook" in plugins.actions
    assert "webhook" in plugins.adapters
    [info] = [info for info in plugins.describe() if info.name == "webhook"]
    assert (info.distribution, info.actions, info.adapters) == (
        "slarules-webhook",
        ["webhook"],
        ["webhook"],
    )
    assert plugins.context("webhook", None, 1).settings == {"signing_secret": SECRET}


@pytest.mark.parametrize("name", ["triggers.sla", "schedules.sla"])
def test_the_corpus_policies_that_use_webhook_load(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    assert load_policies(Path("valid") / name)
    text = (CORPUS / "valid" / name).read_text("utf-8")
    assert 'webhook "https://' in text
    Engine.from_text(text, source=name)


def test_a_breach_posts_the_webhook_end_to_end(server: Endpoint) -> None:
    server.respond(Response(500), Response(200))
    engine = Engine.from_text(
        POLICY % (server.url + HOOK), settings={"webhook": {"signing_secret": SECRET}}
    )
    engine.ingest(CREATED)
    [action] = engine.advance(START + timedelta(hours=2))
    assert (action.name, action.args) == ("webhook", (server.url + HOOK,))

    [failed] = engine.execute([action])
    assert (failed.ok, failed.permanent) == (False, False)
    assert "answered 500" in (failed.error or "")
    [delivered] = engine.retry_failed()
    assert (delivered.ok, delivered.attempt) == (True, 2)

    first, second = server.requests
    assert first.body == second.body
    assert first.json()["data"]["key"] == action.key
    assert first.json()["data"]["reason"] == action.reason
    assert (first.headers["slarules-attempt"], second.headers["slarules-attempt"]) == ("1", "2")
    for request in (first, second):
        assert request.headers["idempotency-key"] == action.key
        assert_signed(request, datetime.now(UTC))


def test_a_permanent_failure_is_not_retried_by_the_engine(server: Endpoint) -> None:
    server.respond(Response(404))
    engine = Engine.from_text(
        POLICY % (server.url + HOOK), settings={"webhook": {"signing_secret": SECRET}}
    )
    engine.ingest(CREATED)
    [delivery] = engine.execute(engine.advance(START + timedelta(hours=2)))
    assert (delivery.ok, delivery.permanent) == (False, True)


def test_the_runtime_retries_after_the_delay_the_receiver_asked_for(
    server: Endpoint, tmp_path: Path
) -> None:
    server.respond(Response(429, headers={"Retry-After": "120"}), Response(200))
    policy = tmp_path / "support.sla"
    policy.write_text(POLICY % (server.url + HOOK))
    clock = FakeClock(START)
    runtime = Runtime.open(
        policy,
        SqliteStore(tmp_path / "state.db"),
        settings={"webhook": {"signing_secret": SECRET}},
        clock=clock,
        rng=random.Random(3),
        backoff=Backoff(base=1.0, cap=5.0),
    )
    runtime.ingest(CREATED)
    clock.now = START + timedelta(hours=2)
    runtime.advance()
    [throttled] = runtime.deliver_due()
    assert (throttled.ok, throttled.retry_after) == (False, 120.0)
    [entry] = runtime.store.outbox("pending")
    assert entry.next_attempt == clock.now + timedelta(seconds=120)
    assert runtime.deliver_due() == []  # not due yet
    clock.now = entry.next_attempt
    [delivered] = runtime.deliver_due()
    assert delivered.ok
    assert runtime.store.outbox("pending") == []
    assert len(server.requests) == 2
    runtime.close()


# -- ticket actions forwarded by the adapter ------------------------------------------------------

TOKEN = "acme-desk-token-0123456789"
FORWARDING = """
policy "All" { applies when true  calendar always  first_response within 1h }
trigger "late" when first_response.breached then tag "late", notify assignee "breached"
"""


def receive_created(engine: Engine) -> None:
    from slarules import InboundRequest

    request = InboundRequest(
        body=json.dumps(CREATED).encode(),
        headers={"Authorization": f"Bearer {TOKEN}"},
        received_at=START,
    )
    engine.receive("webhook", request)


def test_ticket_actions_are_forwarded_to_the_action_url(server: Endpoint) -> None:
    server.respond(Response(202), under=r"/tickets/[^/]+/actions/\w+")
    settings = {
        "inbound_token": TOKEN,
        "signing_secret": SECRET,
        "action_url": server.url + "/tickets/{ticket}/actions/{action}",
    }
    engine = Engine.from_text(FORWARDING, settings={"webhook": settings})
    receive_created(engine)
    deliveries = engine.execute(engine.advance(START + timedelta(hours=2)))
    assert [d.ok for d in deliveries] == [True, True]
    assert [r.path for r in server.requests] == [
        server.path + "/tickets/T-1042/actions/tag",
        server.path + "/tickets/T-1042/actions/notify",
    ]
    tag, notify = (r.json()["data"] for r in server.requests)
    assert (tag["name"], tag["args"]) == ("tag", ["late"])
    assert (notify["name"], notify["args"]) == ("notify", [None, "breached"])
    for request in server.requests:
        assert_signed(request, datetime.now(UTC))


def test_without_an_action_url_ticket_actions_fail_permanently_saying_why() -> None:
    settings = {"inbound_token": TOKEN, "signing_secret": SECRET}
    engine = Engine.from_text(FORWARDING, settings={"webhook": settings})
    receive_created(engine)
    deliveries = engine.execute(engine.advance(START + timedelta(hours=2)))
    assert [d.permanent for d in deliveries] == [True, True]
    assert "`SLARULES_WEBHOOK_ACTION_URL` (action_url), which is not set" in (
        deliveries[0].error or ""
    )
