"""Zendesk's webhook signatures: HMAC-SHA256 of the timestamp and raw body, in a time window."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from conftest import SECRET
from slarules_zendesk import ZendeskAdapter, sign

from slarules import AuthenticationError, InboundRequest

SIGNED_AT = "2026-03-02T10:02:47Z"
ARRIVAL = datetime(2026, 3, 2, 10, 2, 48, tzinfo=UTC)
BODY = b'{"type":"zen:event-type:ticket.status_changed","id":"01JNKX7W0D4E6F8G0H2J4K6M8N"}'


def request(
    body: bytes = BODY,
    *,
    signature: str | None = None,
    timestamp: str | None = SIGNED_AT,
    received_at: datetime = ARRIVAL,
) -> InboundRequest:
    headers = {}
    if timestamp is not None:
        headers["X-Zendesk-Webhook-Signature-Timestamp"] = timestamp
        headers["X-Zendesk-Webhook-Signature"] = signature or sign(SECRET, timestamp, body)
    elif signature is not None:
        headers["X-Zendesk-Webhook-Signature"] = signature
    return InboundRequest(body=body, headers=headers, received_at=received_at)


def test_sign_follows_zendesks_algorithm() -> None:
    # base64(HMAC-SHA256(secret, timestamp + body)), written out independently.
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), SIGNED_AT.encode() + BODY, hashlib.sha256).digest()
    ).decode()
    assert sign(SECRET, SIGNED_AT, BODY) == expected


def test_a_valid_signature_passes(adapter: ZendeskAdapter) -> None:
    adapter.authenticate(request())
    adapter.authenticate(request(body=b""))  # a bodiless request signs as empty


@pytest.mark.parametrize("skew", [timedelta(minutes=-5), timedelta(minutes=5)])
def test_the_window_edges_pass(adapter: ZendeskAdapter, skew: timedelta) -> None:
    adapter.authenticate(request(received_at=datetime(2026, 3, 2, 10, 2, 47, tzinfo=UTC) + skew))


def test_a_tampered_body_fails(adapter: ZendeskAdapter) -> None:
    good = request()
    tampered = InboundRequest(
        body=BODY.replace(b"status_changed", b"priority_changed"),
        headers=dict(good.headers),
        received_at=ARRIVAL,
    )
    with pytest.raises(AuthenticationError, match="wrong signature"):
        adapter.authenticate(tampered)


def test_a_tampered_timestamp_fails(adapter: ZendeskAdapter) -> None:
    signature = sign(SECRET, SIGNED_AT, BODY)
    with pytest.raises(AuthenticationError, match="wrong signature"):
        adapter.authenticate(request(signature=signature, timestamp="2026-03-02T10:02:48Z"))


def test_another_secret_fails(adapter: ZendeskAdapter) -> None:
    forged = sign("not-the-signing-secret-at-all", SIGNED_AT, BODY)
    with pytest.raises(AuthenticationError, match="wrong signature") as raised:
        adapter.authenticate(request(signature=forged))
    assert SECRET not in str(raised.value)


def test_an_expired_timestamp_fails(adapter: ZendeskAdapter) -> None:
    late = datetime(2026, 3, 2, 10, 7, 48, tzinfo=UTC)
    with pytest.raises(AuthenticationError, match="301s old"):
        adapter.authenticate(request(received_at=late))


def test_a_future_timestamp_fails(adapter: ZendeskAdapter) -> None:
    early = datetime(2026, 3, 2, 9, 57, 46, tzinfo=UTC)
    with pytest.raises(AuthenticationError, match="in the future"):
        adapter.authenticate(request(received_at=early))


def test_the_window_is_a_setting(make_adapter) -> None:  # type: ignore[no-untyped-def]
    strict = make_adapter(signature_tolerance_seconds="30")
    with pytest.raises(AuthenticationError, match="within 30s"):
        strict.authenticate(request(received_at=ARRIVAL + timedelta(seconds=31)))


def test_a_unix_timestamp_is_refused(adapter: ZendeskAdapter) -> None:
    with pytest.raises(AuthenticationError, match="not an ISO-8601"):
        adapter.authenticate(request(timestamp="1772445767"))


def test_a_missing_signature_fails(adapter: ZendeskAdapter) -> None:
    with pytest.raises(AuthenticationError, match="missing signature: no `X-Zendesk-Webhook-Sig"):
        adapter.authenticate(InboundRequest(body=BODY, received_at=ARRIVAL))


def test_a_missing_timestamp_fails(adapter: ZendeskAdapter) -> None:
    with pytest.raises(AuthenticationError, match="missing signature timestamp"):
        adapter.authenticate(request(timestamp=None, signature=sign(SECRET, SIGNED_AT, BODY)))


def test_header_names_are_case_insensitive(adapter: ZendeskAdapter) -> None:
    headers = {
        "x-zendesk-webhook-signature": sign(SECRET, SIGNED_AT, BODY),
        "X-ZENDESK-WEBHOOK-SIGNATURE-TIMESTAMP": SIGNED_AT,
    }
    adapter.authenticate(InboundRequest(body=BODY, headers=headers, received_at=ARRIVAL))
