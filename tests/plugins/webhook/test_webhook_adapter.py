"""The adapter found through its entry point: settings, authentication, CloudEvents in all three
modes, mapped payloads and plain events, through `engine.receive`."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from mutations import mutated, read_as_events
from slarules_webhook import WebhookAdapter, generate_secret, signature_headers

from slarules import AuthenticationError, Engine, InboundRequest, PayloadError, PluginError
from slarules.plugins import Plugins

PAYLOADS = Path(__file__).parent / "payloads"
TOKEN = "acme-desk-token-0123456789"
SECRET = "whsec_" + base64.b64encode(b"acme desk signing key, 32 bytes").decode()
RECEIVED = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
POLICY = 'policy "All" { applies when true  calendar always  first_response within 1h }'


def load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text("utf-8"))


def adapter_with(**settings: str) -> WebhookAdapter:
    adapter = Plugins(settings={"webhook": settings}).adapter("webhook")
    assert isinstance(adapter, WebhookAdapter)
    return adapter


def request(body: Any, content_type: str = "application/json", **headers: str) -> InboundRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundRequest(
        body=raw,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {TOKEN}", **headers},
        received_at=RECEIVED,
    )


@pytest.fixture
def adapter() -> WebhookAdapter:
    return adapter_with(inbound_token=TOKEN, mapping=str(PAYLOADS / "acme_mapping.json"))


# -- settings ----------------------------------------------------------------------------------


def test_the_adapter_needs_a_way_to_authenticate() -> None:
    with pytest.raises(PluginError) as raised:
        adapter_with(mapping=str(PAYLOADS / "acme_mapping.json"))
    assert "`SLARULES_WEBHOOK_INBOUND_TOKEN` (inbound_token)" in str(raised.value)
    assert "`SLARULES_WEBHOOK_INBOUND_SECRET` (inbound_secret)" in str(raised.value)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"inbound_token": "short"}, "`SLARULES_WEBHOOK_INBOUND_TOKEN` (inbound_token): String"),
        ({"inbound_secret": "whsec_not base64!"}, "(inbound_secret): not a Standard Webhooks"),
        ({"inbound_secret": "whsec_c2hvcnQ="}, "the secret's key is 5 bytes"),
        ({"inbound_token": TOKEN, "tolerance_seconds": "soon"}, "(tolerance_seconds)"),
        ({"inbound_token": TOKEN, "colour": "blue"}, "(colour): not a setting of this plugin"),
        ({"inbound_token": TOKEN, "action_url": "ftp://x"}, "(action_url): `ftp://x` is not"),
        ({"inbound_token": TOKEN, "mapping": "/nowhere/m.json"}, "(mapping): cannot read file"),
    ],
)
def test_a_bad_setting_is_named_by_its_variable(settings: dict[str, str], message: str) -> None:
    with pytest.raises(PluginError, match="webhook: ") as raised:
        adapter_with(**settings)
    assert message in str(raised.value)


def test_settings_come_from_the_environment_too() -> None:
    plugins = Plugins(environ={"SLARULES_WEBHOOK_INBOUND_TOKEN": TOKEN})
    adapter = plugins.adapter("webhook")
    adapter.authenticate(request({}))


# -- authentication ----------------------------------------------------------------------------


def test_the_bearer_token_is_checked() -> None:
    adapter = adapter_with(inbound_token=TOKEN)
    adapter.authenticate(request({}))
    with pytest.raises(AuthenticationError, match="wrong bearer token"):
        adapter.authenticate(request({}, Authorization=f"Bearer {TOKEN}x"))
    with pytest.raises(AuthenticationError, match="missing token"):
        adapter.authenticate(request({}, Authorization=""))
    with pytest.raises(AuthenticationError, match="missing token"):
        adapter.authenticate(request({}, Authorization=f"Basic {TOKEN}"))


def signed(body: bytes, timestamp: datetime = RECEIVED, secret: str = SECRET) -> dict[str, str]:
    return signature_headers(secret, "msg_2Nj8", int(timestamp.timestamp()), body)


def test_a_signature_is_checked_against_the_time_received() -> None:
    adapter = adapter_with(inbound_secret=SECRET)
    body = b'{"id": "e1"}'
    adapter.authenticate(InboundRequest(body=body, headers=signed(body), received_at=RECEIVED))
    late = RECEIVED.replace(minute=6)
    with pytest.raises(AuthenticationError, match="expired signature"):
        adapter.authenticate(InboundRequest(body=body, headers=signed(body), received_at=late))
    with pytest.raises(AuthenticationError, match="no `webhook-signature` matches"):
        adapter.authenticate(
            InboundRequest(body=body + b" ", headers=signed(body), received_at=RECEIVED)
        )
    with pytest.raises(AuthenticationError, match="missing `webhook-id` header"):
        adapter.authenticate(InboundRequest(body=body, headers={}, received_at=RECEIVED))


def test_a_wider_window_and_secrets_being_rotated() -> None:
    new = generate_secret()
    adapter = adapter_with(inbound_secret=f"{new} {SECRET}", tolerance_seconds="900")
    body = b"{}"
    ten_minutes_ago = RECEIVED.replace(hour=11, minute=50)
    for secret in (new, SECRET):
        headers = signed(body, ten_minutes_ago, secret)
        adapter.authenticate(InboundRequest(body=body, headers=headers, received_at=RECEIVED))


def test_token_and_signature_are_both_required_when_both_are_set() -> None:
    adapter = adapter_with(inbound_token=TOKEN, inbound_secret=SECRET)
    body = b"{}"
    both = {**signed(body), "Authorization": f"Bearer {TOKEN}"}
    adapter.authenticate(InboundRequest(body=body, headers=both, received_at=RECEIVED))
    with pytest.raises(AuthenticationError, match="missing token"):
        adapter.authenticate(InboundRequest(body=body, headers=signed(body), received_at=RECEIVED))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with pytest.raises(AuthenticationError, match="missing `webhook-id`"):
        adapter.authenticate(InboundRequest(body=body, headers=headers, received_at=RECEIVED))


def test_a_refused_request_is_kept_by_the_engine() -> None:
    engine = Engine.from_text(POLICY, settings={"webhook": {"inbound_token": TOKEN}})
    with pytest.raises(AuthenticationError):
        engine.receive("webhook", request({}, Authorization="Bearer nope"))
    [rejected] = engine.rejected
    assert (rejected.stage, rejected.reason) == ("authentication", "webhook: wrong bearer token")


# -- mapped payloads ---------------------------------------------------------------------------


def test_a_mapped_delivery_goes_into_the_engine() -> None:
    settings = {"inbound_token": TOKEN, "mapping": str(PAYLOADS / "acme_mapping.toml")}
    engine = Engine.from_text(POLICY, settings={"webhook": settings})
    engine.receive("webhook", request(load("acme_delivery.json")))
    [clock] = engine.clocks("1042", now=RECEIVED)
    assert (clock.metric, clock.state.value) == ("first_response", "met")
    assert clock.elapsed.total_seconds() == 25 * 60  # created 09:00Z, public reply 09:25Z
    assert engine.source_of("1042") == "webhook"
    # The same delivery again (a retried webhook): every event is a duplicate.
    engine.receive("webhook", request(load("acme_delivery.json")))
    assert engine.stats.duplicates == 4


def test_a_bad_mapped_payload_is_kept_and_names_the_pointer(adapter: WebhookAdapter) -> None:
    engine = Engine.from_text(
        POLICY,
        settings={
            "webhook": {"inbound_token": TOKEN, "mapping": str(PAYLOADS / "acme_mapping.json")}
        },
    )
    body = load("acme_delivery.json")
    body["events"][0]["ticket"]["state"] = "9"
    with pytest.raises(PayloadError) as raised:
        engine.receive("webhook", request(body))
    assert raised.value.field == "/events/0/ticket/state"
    [rejected] = engine.rejected
    assert rejected.stage == "payload"
    assert "/events/0/ticket/state" in rejected.reason


def test_malformed_json_is_a_payload_error(adapter: WebhookAdapter) -> None:
    with pytest.raises(PayloadError, match="malformed JSON") as raised:
        adapter.parse(request(b'{"events": [}'))
    assert raised.value.field == "body"


# -- plain events ------------------------------------------------------------------------------


def test_without_a_mapping_the_body_is_normalized_events() -> None:
    adapter = adapter_with(inbound_token=TOKEN)
    event = {"id": "e1", "ticket": "T-1", "type": "ticket.created", "at": "2026-03-02T09:00:00Z"}
    [one] = adapter.parse(request(event))
    assert one.ticket == "T-1"
    reply = {**event, "id": "e2", "type": "ticket.replied", "actor": {"role": "agent"}}
    assert [e.id for e in adapter.parse(request([event, reply]))] == ["e1", "e2"]
    with pytest.raises(PayloadError) as raised:
        adapter.parse(request([event, {**reply, "actor": {"role": "boss"}}]))
    assert raised.value.field == "/1/actor/role"
    with pytest.raises(PayloadError) as raised:
        adapter.parse(request([event, "e2"]))
    assert raised.value.field == "/1"
    with pytest.raises(PayloadError) as raised:
        adapter.parse(request({**event, "at": "2026-03-02T09:00:00"}))
    assert (raised.value.field, raised.value.reason[:15]) == ("/at", "naive timestamp")
    with pytest.raises(PayloadError, match=r"unknown event type `ticket\.closed`"):
        adapter.parse(request({**event, "type": "ticket.closed"}))
    with pytest.raises(PayloadError) as raised:
        adapter.parse(request({k: v for k, v in event.items() if k != "id"}))
    assert (raised.value.field, raised.value.reason) == ("/id", "required (read as `id`)")


# -- CloudEvents -------------------------------------------------------------------------------

CLOUD_EVENT = {
    "specversion": "1.0",
    "id": "A234-1234-1234",
    "source": "https://desk.acme.example/tickets",
    "type": "ticket.updated",
    "subject": "T-1042",
    "time": "2026-03-02T09:14:05Z",
    "datacontenttype": "application/json",
    "data": {"fields": {"status": "pending"}, "actor": {"id": "u7", "role": "agent"}},
}
STRUCTURED = "application/cloudevents+json; charset=utf-8"
BATCH = "application/cloudevents-batch+json"


def test_a_structured_cloud_event(adapter: WebhookAdapter) -> None:
    [event] = adapter.parse(request(CLOUD_EVENT, STRUCTURED))
    assert event.id == "https://desk.acme.example/tickets#A234-1234-1234"
    assert (event.ticket, event.type.value) == ("T-1042", "ticket.updated")
    assert event.at == datetime(2026, 3, 2, 9, 14, 5, tzinfo=UTC)
    assert event.fields == {"status": "pending"}
    assert (event.actor.id, event.actor.role) == ("u7", "agent")


def test_the_same_id_from_two_sources_is_two_events(adapter: WebhookAdapter) -> None:
    other = {**CLOUD_EVENT, "source": "https://chat.acme.example"}
    [first] = adapter.parse(request(CLOUD_EVENT, STRUCTURED))
    [second] = adapter.parse(request(other, STRUCTURED))
    assert first.id != second.id


def test_cloud_event_types_are_translated_by_the_mapping(adapter: WebhookAdapter) -> None:
    opened = {
        **CLOUD_EVENT,
        "type": "com.acme.ticket.opened",
        "data": {"fields": {"status": "new"}},
    }
    [event] = adapter.parse(request(opened, STRUCTURED))
    assert event.type.value == "ticket.created"
    viewed = {**CLOUD_EVENT, "type": "com.acme.ticket.viewed"}
    assert adapter.parse(request(viewed, STRUCTURED)) == []  # mapped to null on purpose


def test_data_base64_and_data_with_ticket_and_time(adapter: WebhookAdapter) -> None:
    data = {"ticket": "T-9", "at": "2026-03-02T10:00:00+01:00", "fields": {"priority": "high"}}
    document = {k: v for k, v in CLOUD_EVENT.items() if k not in ("data", "subject", "time")}
    document["data_base64"] = base64.b64encode(json.dumps(data).encode()).decode()
    [event] = adapter.parse(request(document, STRUCTURED))
    assert (event.ticket, event.at, event.fields) == (
        "T-9",
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        {"priority": "high"},
    )


def test_a_batch_of_cloud_events(adapter: WebhookAdapter) -> None:
    created = {
        **CLOUD_EVENT,
        "id": "A1",
        "type": "ticket.created",
        "time": "2026-03-02T09:00:00Z",
        "data": {"fields": {"status": "new", "priority": "urgent"}},
    }
    replied = {
        **CLOUD_EVENT,
        "id": "A3",
        "type": "ticket.replied",
        "data": {"actor": {"role": "agent"}, "public": False},
    }
    events = adapter.parse(request([created, CLOUD_EVENT, replied], BATCH))
    assert [e.type.value for e in events] == ["ticket.created", "ticket.updated", "ticket.replied"]
    assert events[2].public is False
    assert adapter.parse(request([], BATCH)) == []


def test_a_binary_cloud_event(adapter: WebhookAdapter) -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "B77",
        "ce-source": "/acme/desk",
        "ce-type": "ticket.replied",
        "ce-subject": "T-1042",
        "ce-time": "2026-03-02T09:30:00Z",
    }
    data = {"actor": {"id": "c1", "role": "requester"}}
    [event] = adapter.parse(request(data, "application/json", **headers))
    assert (event.id, event.actor.role, event.public) == ("/acme/desk#B77", "requester", True)
    # No body at all: an event with no data.
    [empty] = adapter.parse(request(b"", "", **{**headers, "ce-type": "ticket.updated"}))
    assert empty.fields == {}
    with pytest.raises(PayloadError) as raised:
        adapter.parse(request(data, "application/json", **{**headers, "ce-time": "yesterday"}))
    assert raised.value.field == "ce-time"
    with pytest.raises(PayloadError) as raised:
        adapter.parse(request(b"<xml/>", "application/xml", **headers))
    assert raised.value.field == "content-type"
    with pytest.raises(PayloadError) as raised:
        adapter.parse(request({"actor": {"role": "boss"}}, "application/json", **headers))
    assert raised.value.field == "/actor/role"


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in CLOUD_EVENT.items() if k != key}


@pytest.mark.parametrize(
    ("document", "field", "reason"),
    [
        (without("id"), "/id", "required CloudEvents attribute: missing"),
        (without("source"), "/source", "required CloudEvents attribute"),
        (without("type"), "/type", "required CloudEvents attribute"),
        (without("specversion"), "/specversion", "required CloudEvents attribute"),
        ({**CLOUD_EVENT, "specversion": "0.3"}, "/specversion", "`0.3` is not supported"),
        ({**CLOUD_EVENT, "type": "com.acme.merged"}, "/type", "unknown CloudEvent type"),
        (without("time"), "/time", "required: when it happened"),
        ({**CLOUD_EVENT, "time": "2026-03-02T09:14:05"}, "/time", "naive timestamp"),
        ({**CLOUD_EVENT, "subject": ""}, "/subject", "the ticket's id"),
        ({**CLOUD_EVENT, "data": [1]}, "/data", "a normalized event body"),
        ({**CLOUD_EVENT, "data": {"id": "x"}}, "/data/id", "leave it out of `data`"),
        ({**CLOUD_EVENT, "data": {"ticket": "T-2"}}, "/data/ticket", "differs from"),
        ({**CLOUD_EVENT, "data": {"fields": {"n": float("inf")}}}, "/data/fields/n", "NaN"),
        ({**CLOUD_EVENT, "data": {"colour": "red"}}, "/data/colour", "not an event field"),
        ({**CLOUD_EVENT, "datacontenttype": "text/csv"}, "/datacontenttype", "JSON data only"),
        ({**CLOUD_EVENT, "data_base64": "e30="}, "/data", "not both"),
        ({**without("data"), "data_base64": "%%%"}, "/data_base64", "not the base64"),
        ({**CLOUD_EVENT, "id": "x" * 600}, "/id", "at most 512"),
    ],
)
def test_a_bad_cloud_event_names_the_attribute(
    adapter: WebhookAdapter, document: Any, field: str, reason: str
) -> None:
    raw = json.dumps(document, allow_nan=True).encode()
    with pytest.raises(PayloadError) as raised:
        adapter.parse(request(raw, STRUCTURED))
    assert raised.value.field == field
    assert reason in raised.value.reason
    # In a batch, the same error points into the element.
    with pytest.raises(PayloadError) as in_batch:
        adapter.parse(request(b"[" + raw + b"]", BATCH))
    assert in_batch.value.field == "/0" + field


def test_a_batch_must_be_a_list_of_objects(adapter: WebhookAdapter) -> None:
    with pytest.raises(PayloadError, match="a CloudEvents batch is a JSON list"):
        adapter.parse(request(CLOUD_EVENT, BATCH))
    with pytest.raises(PayloadError, match="a CloudEvent is a JSON object") as raised:
        adapter.parse(request([CLOUD_EVENT, "x"], BATCH))
    assert raised.value.field == "/1"


NORMALIZED = {
    "id": "e1",
    "ticket": "T-1",
    "type": "ticket.created",
    "at": "2026-03-02T09:00:00Z",
    "fields": {"status": "new", "tags": ["a"]},
    "actor": {"id": "u1", "role": "agent"},
}


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([(CLOUD_EVENT, STRUCTURED), ([CLOUD_EVENT, CLOUD_EVENT], BATCH),
                     (NORMALIZED, "application/json"), ([NORMALIZED], "application/json")]),
    st.data(),
)  # fmt: skip
def test_any_changed_cloud_event_or_event_gives_events_or_names_the_field(
    sent: tuple[Any, str], data: st.DataObject
) -> None:
    document, content_type = sent
    changed = data.draw(mutated(document))
    adapter = adapter_with(inbound_token=TOKEN, mapping=str(PAYLOADS / "acme_mapping.json"))
    plain = adapter_with(inbound_token=TOKEN)
    parse = plain.parse if content_type == "application/json" else adapter.parse
    read = read_as_events(lambda: parse(request(changed, content_type)))
    event(f"{'events' if read else 'payload error'}")
