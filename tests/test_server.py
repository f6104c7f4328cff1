"""`slarules serve` over real HTTP on 127.0.0.1: webhooks, events, clocks, metrics, reload, and
the bad input a service meets."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from engine_helpers import HOUR, MINUTE, Events, FakeClock, utc
from hypothesis import given, settings
from hypothesis import strategies as st
from mutations import json_values, mutated
from servers import serving

from slarules.errors import ActionError
from slarules.runtime import Runtime
from slarules.server import create_app
from slarules.store import SqliteStore
from slarules.testing import RecordingPlugin

START = utc("2026-03-02T09:00:00Z")
TOKEN = "s3cret-token"
POLICY = """
policy "All" {
    applies when true
    first_response within 1h
}
trigger "late" when first_response.breached then tag "late"
"""


class Service:
    def __init__(self, url: str, runtime: Runtime, clock: FakeClock, policy: Path) -> None:
        self.url, self.runtime, self.clock, self.policy = url, runtime, clock, policy
        self.client = httpx.Client(base_url=url, timeout=10.0)

    def post(
        self, path: str, body: bytes | object, token: str | None = TOKEN, **headers: str
    ) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.post(path, content=content, headers=headers)

    def get(self, path: str, token: str | None = TOKEN) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.get(path, headers=headers)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as started:
        yield started


@contextlib.contextmanager
def running_service(
    tmp_path: Path, settings: dict[str, dict[str, str]] | None = None
) -> Iterator[Service]:
    policy = tmp_path / "support.sla"
    policy.write_text(POLICY)
    clock = FakeClock(START)
    recorder = RecordingPlugin(token="hook-token")
    runtime = Runtime.open(
        policy, SqliteStore(tmp_path / "s.db"), plugins=[recorder], clock=clock, settings=settings
    )
    app = create_app(runtime, policy, token=TOKEN, max_body=4096)
    try:
        with serving(app) as url:
            yield Service(url, runtime, clock, policy)
    finally:
        runtime.close()


def test_a_webhook_whose_ticket_cannot_be_read_for_now_is_asked_for_again(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The adapter fetches the ticket a webhook names, and the helpdesk's API throttles it.
    def throttled(self: object, request: object) -> list[object]:
        raise ActionError("GET /tickets/42 answered 429", retry_after=5.0)

    monkeypatch.setattr(RecordingPlugin, "parse", throttled)
    body = Events().created("T-1", START)
    answer = service.post("/hooks/recorder", body, token=None, **{"X-Token": "hook-token"})
    assert (answer.status_code, answer.headers["retry-after"]) == (503, "5")
    assert "GET /tickets/42 answered 429" in answer.json()["error"]
    [(_, kept)] = service.runtime.store.rejected()  # kept, should it not come again
    assert kept.stage == "payload"


def test_events_in_clocks_out(service: Service) -> None:
    events = Events()
    first = events.created("T-1", START)
    answer = service.post("/events", [first, events.created("T-2", START)])
    assert (answer.status_code, answer.json()) == (
        202, {"accepted": 2, "duplicates": 0, "actions": 0})  # fmt: skip
    # Sent again (a client's retry), an event is a repeat, not a new one.
    again = service.post("/events", [first, events.created("T-3", START)])
    assert again.json() == {"accepted": 1, "duplicates": 1, "actions": 0}
    clocks = service.get("/tickets/T-1/clocks?at=2026-03-02T09:30:00%2B00:00").json()
    assert [(c["metric"], c["state"], c["due_at"]) for c in clocks] == [
        ("first_response", "running", "2026-03-02T10:00:00Z")
    ]
    explained = service.get("/tickets/T-1/explain").json()
    assert explained["ticket"] == "T-1"
    assert service.get("/tickets/T-9/clocks").status_code == 404
    unknown = service.get("/tickets/T-9/explain")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "no events for ticket `T-9`")
    for at, error in [
        ("noon", "`at` is not an ISO 8601 instant: `noon`"),
        ("2026-03-02T09:30:00+01:00", "a `+` in a URL is a space: write it %2B"),
        ("2026-03-02T09:30:00", "`at` has no UTC offset: `2026-03-02T09:30:00`"),
    ]:
        refused = service.get(f"/tickets/T-1/clocks?at={at}")
        assert refused.status_code == 400
        assert error in refused.json()["error"]


def test_webhooks_go_through_their_adapter_with_its_own_authentication(service: Service) -> None:
    body = Events().created("T-1", START)
    refused = service.post("/hooks/recorder", body, token=None, **{"X-Token": "wrong"})
    assert refused.status_code == 401
    assert refused.json()["error"] == "missing or wrong `X-Token` header"
    accepted = service.post("/hooks/recorder", body, token=None, **{"X-Token": "hook-token"})
    assert accepted.status_code == 202
    assert service.runtime.engine.source_of("T-1") == "recorder"
    bad = service.post("/hooks/recorder", b"{not json", token=None, **{"X-Token": "hook-token"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "body"
    assert service.post("/hooks/nosuch", body, token=None).status_code == 404
    stored = [item.stage for _, item in service.runtime.store.rejected()]
    assert stored == ["authentication", "payload"]


def test_an_adapter_bug_is_a_500_with_the_request_kept_and_the_service_goes_on(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bug(request: object) -> None:
        raise TypeError("'NoneType' object is not subscriptable")

    monkeypatch.setattr(service.runtime.engine.plugins.adapter("recorder"), "parse", bug)
    body = Events().created("T-1", START)
    failed = service.post("/hooks/recorder", body, token=None, **{"X-Token": "hook-token"})
    assert failed.status_code == 500
    assert failed.json()["error"] == (
        "adapter `recorder` failed: TypeError: 'NoneType' object is not subscriptable"
    )
    [(_, kept)] = service.runtime.store.rejected()
    assert (kept.stage, kept.adapter) == ("payload", "recorder")
    assert json.loads(str(kept.payload)) == body
    answer = service.post("/events", Events().created("T-2", START))
    assert answer.status_code == 202
    assert service.runtime.engine.tickets() == ["T-2"]


def test_bad_input_gets_a_4xx_with_the_reason(service: Service) -> None:
    events = Events()
    assert service.post("/events", events.created("T-1", START), token=None).status_code == 401
    assert service.post("/events", events.created("T-1", START), token="wrong").status_code == 401
    assert service.get("/tickets/T-1/clocks", token=None).status_code == 401
    too_big = service.post("/events", b"[" + b" " * 5000 + b"]")
    assert (too_big.status_code, too_big.json()["error"]) == (413, "the body is over 4096 bytes")
    assert service.post("/events", b"\xff\xfe{").status_code == 400
    assert service.post("/events", b"{oops").status_code == 400
    mixed = service.post(
        "/events",
        [
            events.created("T-1", START),
            {**events.created("T-2", START), "at": "2026-03-02T09:00:00"},
        ],
    )
    assert mixed.status_code == 422
    assert mixed.json()["accepted"] == 1
    assert mixed.json()["rejected"][0]["problems"][0][0] == "at"
    assert service.runtime.engine.tickets() == ["T-1"]


def test_metrics_in_the_prometheus_text_format(service: Service) -> None:
    service.post("/events", Events().created("T-1", START))
    service.clock.now = START + 2 * HOUR
    service.runtime.advance()
    text = service.get("/metrics", token=None).text
    assert (
        "# TYPE slarules_events_ingested_total counter\nslarules_events_ingested_total 1\n" in text
    )
    assert "slarules_actions_total 1\n" in text
    assert "slarules_timers_pending 0\n" in text
    assert service.get("/healthz", token=None).json() == {"status": "ok"}


def test_counters_start_from_zero_with_the_process(tmp_path: Path) -> None:
    with running_service(tmp_path) as service:
        service.post("/events", Events().created("T-1", START))
    with running_service(tmp_path) as restarted:  # the same store
        assert restarted.runtime.engine.tickets() == ["T-1"]
        assert "slarules_events_ingested_total 0\n" in restarted.get("/metrics", token=None).text


def test_an_invalid_policy_file_is_refused_on_reload_and_the_old_one_keeps_running(
    service: Service,
) -> None:
    service.post("/events", Events().created("T-1", START))
    service.policy.write_text(POLICY.replace("within 1h", "within soon"))
    refused = service.post("/admin/reload", b"")
    assert refused.status_code == 422
    assert refused.json()["diagnostics"][0]["code"] == "SLA001"
    assert service.get("/tickets/T-1/clocks").json()[0]["target"] == "PT1H"

    service.policy.write_text(POLICY.replace("within 1h", "within 2h"))
    assert service.post("/admin/reload", b"").json() == {"reloaded": True}
    assert service.get("/tickets/T-1/clocks").json()[0]["target"] == "PT2H"
    # The process's counters go on across a reload.
    assert "slarules_events_ingested_total 1\n" in service.get("/metrics", token=None).text


def test_a_replayed_signed_webhook_is_ignored_then_refused_out_of_its_window(
    tmp_path: Path,
) -> None:
    """The generic webhook adapter (its own distribution) signs Standard Webhooks style; the
    server checks the window against its own clock."""
    signing = pytest.importorskip("slarules_webhook.signing")
    secret = signing.generate_secret()
    with running_service(tmp_path, {"webhook": {"inbound_secret": secret}}) as service:
        body = json.dumps(Events().created("T-9", START)).encode()
        headers = signing.signature_headers(secret, "msg-1", int(START.timestamp()), body)
        assert service.post("/hooks/webhook", body, token=None, **headers).status_code == 202
        # The same request again, within the window: the event id is known, nothing changes.
        assert service.post("/hooks/webhook", body, token=None, **headers).status_code == 202
        assert service.runtime.engine.stats.duplicates == 1
        service.clock.now = START + 10 * MINUTE
        replayed = service.post("/hooks/webhook", body, token=None, **headers)
        assert replayed.status_code == 401
        assert "timestamp" in replayed.json()["error"]
        tampered = body.replace(b"T-9", b"T-8")
        service.clock.now = START
        forged = service.post("/hooks/webhook", tampered, token=None, **headers)
        assert forged.status_code == 401
        assert service.runtime.engine.tickets() == ["T-9"]


def test_any_json_posted_as_events_or_to_a_hook_is_answered_never_a_server_error(
    tmp_path: Path,
) -> None:
    sent = Events().created("T-1", START, custom={"limit": 3600}, tags=["vip"])
    with running_service(tmp_path) as service:

        @settings(max_examples=100, deadline=None)
        @given(st.one_of(mutated(sent), st.lists(mutated(sent), max_size=3), json_values))
        def post(body: Any) -> None:
            answer = service.post("/events", body)
            assert answer.status_code in (202, 400, 413, 422), answer.text
            assert "error" in answer.json() or "accepted" in answer.json()
            hooked = service.post("/hooks/recorder", body, token=None, **{"X-Token": "hook-token"})
            assert hooked.status_code in (202, 413, 422), hooked.text

        post()
