"""Standard Webhooks signatures: the published test vector, and every way a signature fails."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from slarules_webhook import generate_secret, sign, signature_headers, verify_signature
from slarules_webhook.signing import decode_secret

from slarules import AuthenticationError

# The example of the Standard Webhooks specification and its reference libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

NOW = datetime.fromtimestamp(SPEC_TIMESTAMP, UTC)


def spec_headers(**changes: str) -> dict[str, str]:
    headers = {
        "Webhook-Id": SPEC_ID,
        "Webhook-Timestamp": str(SPEC_TIMESTAMP),
        "Webhook-Signature": SPEC_SIGNATURE,
    }
    return {**headers, **changes}


def test_the_specification_example_signs_and_verifies() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    assert verify_signature(SPEC_BODY, spec_headers(), SPEC_SECRET, now=NOW) == SPEC_ID


def test_the_prefix_is_optional_and_keys_may_be_bytes() -> None:
    bare = SPEC_SECRET.removeprefix("whsec_")
    assert sign(bare, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    key = decode_secret(SPEC_SECRET)
    assert verify_signature(SPEC_BODY, spec_headers(), key, now=NOW) == SPEC_ID


def test_a_tampered_body_id_or_timestamp_fails() -> None:
    with pytest.raises(AuthenticationError, match="no `webhook-signature` matches"):
        verify_signature(SPEC_BODY.replace(b"2", b"3"), spec_headers(), SPEC_SECRET, now=NOW)
    with pytest.raises(AuthenticationError, match="matches"):
        verify_signature(
            SPEC_BODY, spec_headers(**{"Webhook-Id": "msg_other"}), SPEC_SECRET, now=NOW
        )
    moved = str(SPEC_TIMESTAMP + 1)
    with pytest.raises(AuthenticationError, match="matches"):
        verify_signature(
            SPEC_BODY, spec_headers(**{"Webhook-Timestamp": moved}), SPEC_SECRET, now=NOW
        )


def test_a_wrong_secret_fails_and_never_shows_the_expected_signature() -> None:
    with pytest.raises(AuthenticationError) as raised:
        verify_signature(SPEC_BODY, spec_headers(), generate_secret(), now=NOW)
    assert "v1," not in str(raised.value)


@pytest.mark.parametrize("offset", [timedelta(minutes=5, seconds=1), -timedelta(minutes=6)])
def test_an_expired_or_future_timestamp_fails(offset: timedelta) -> None:
    with pytest.raises(AuthenticationError, match="expired signature") as raised:
        verify_signature(SPEC_BODY, spec_headers(), SPEC_SECRET, now=NOW + offset)
    assert ("old" if offset > timedelta(0) else "in the future") in str(raised.value)


def test_the_window_is_five_minutes_either_way_by_default() -> None:
    for offset in (timedelta(minutes=5), -timedelta(minutes=5)):
        verify_signature(SPEC_BODY, spec_headers(), SPEC_SECRET, now=NOW + offset)
    wide = timedelta(hours=1)
    verify_signature(SPEC_BODY, spec_headers(), SPEC_SECRET, now=NOW + wide, tolerance=wide)


@pytest.mark.parametrize("missing", ["Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"])
def test_a_missing_header_is_named(missing: str) -> None:
    headers = {k: v for k, v in spec_headers().items() if k != missing}
    with pytest.raises(AuthenticationError, match=f"missing `{missing.lower()}` header"):
        verify_signature(SPEC_BODY, headers, SPEC_SECRET, now=NOW)


def test_a_timestamp_that_is_not_unix_seconds_fails() -> None:
    for text in ("2021-02-25T15:02:10Z", "1614265330.5", "-1"):
        with pytest.raises(AuthenticationError, match="is not Unix seconds"):
            verify_signature(
                SPEC_BODY, spec_headers(**{"Webhook-Timestamp": text}), SPEC_SECRET, now=NOW
            )


def test_one_valid_signature_among_several_is_enough() -> None:
    wrong = "v1," + base64.b64encode(b"x" * 32).decode()
    several = f"v1a,ed25519-signature {wrong} {SPEC_SIGNATURE}"
    headers = spec_headers(**{"Webhook-Signature": several})
    assert verify_signature(SPEC_BODY, headers, SPEC_SECRET, now=NOW) == SPEC_ID
    with pytest.raises(AuthenticationError, match="matches"):
        verify_signature(
            SPEC_BODY, spec_headers(**{"Webhook-Signature": wrong}), SPEC_SECRET, now=NOW
        )
    with pytest.raises(AuthenticationError, match="has no `v1,` signature"):
        verify_signature(
            SPEC_BODY, spec_headers(**{"Webhook-Signature": "v1a,abc"}), SPEC_SECRET, now=NOW
        )


def test_any_of_several_secrets_may_have_signed() -> None:
    old, new = generate_secret(), SPEC_SECRET
    assert verify_signature(SPEC_BODY, spec_headers(), [old, new], now=NOW) == SPEC_ID


def test_headers_made_here_verify() -> None:
    secret = generate_secret()
    body = b'{"type":"slarules.action"}'
    headers = signature_headers(secret, "T-1/late/0", SPEC_TIMESTAMP, body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert verify_signature(body, headers, secret, now=NOW) == "T-1/late/0"


@pytest.mark.parametrize(
    ("secret", "message"),
    [("whsec_***", "not a Standard Webhooks secret"), ("whsec_c2hvcnQ=", "is 5 bytes")],
)
def test_a_bad_secret_is_a_configuration_error(secret: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        verify_signature(SPEC_BODY, spec_headers(), secret, now=NOW)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="must be aware"):
        verify_signature(SPEC_BODY, spec_headers(), SPEC_SECRET, now=NOW.replace(tzinfo=None))


def test_generated_secrets_are_new_each_time() -> None:
    first, second = generate_secret(), generate_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(decode_secret(first)) == 32
    with pytest.raises(ValueError, match="16 bytes or more"):
        generate_secret(8)
