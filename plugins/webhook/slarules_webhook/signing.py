"""Standard Webhooks signatures (https://www.standardwebhooks.com/), both ways.

A signed request carries three headers: ``webhook-id`` (unique per message, the same on every
retry), ``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``: one or
more space-separated ``v1,<base64>`` values, each an HMAC-SHA256 of ``id.timestamp.body`` with
a shared secret. A secret is written ``whsec_<base64 of the key bytes>``; the prefix is
optional.

slarules verifies the webhooks helpdesks send to it, and signs the ones it sends; hosts that
receive slarules' webhooks verify them with :func:`verify_signature`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from slarules.errors import AuthenticationError

__all__ = [
    "DEFAULT_TOLERANCE",
    "ID_HEADER",
    "SECRET_PREFIX",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "decode_secret",
    "generate_secret",
    "sign",
    "signature_headers",
    "verify_signature",
]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
# Standard Webhooks' window: wide enough for clock skew and slow queues, narrow enough that a
# captured request cannot be replayed much later.
DEFAULT_TOLERANCE = timedelta(minutes=5)
# Shorter keys are guessable offline from one captured signature.
MIN_KEY_BYTES = 16
_VERSION = "v1"


def decode_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_…`` secret, or :class:`ValueError` saying what is wrong."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "not a Standard Webhooks secret: expected `whsec_` and base64, "
            "such as one from `slarules_webhook.generate_secret()`"
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the secret's key is {len(key)} bytes; it needs {MIN_KEY_BYTES} or more")
    return key


def generate_secret(size: int = 32) -> str:
    """A new random secret, ``whsec_`` and the base64 of ``size`` random bytes."""
    if size < MIN_KEY_BYTES:
        raise ValueError(f"a secret needs {MIN_KEY_BYTES} bytes or more, not {size}")
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(size)).decode("ascii")


def sign(secret: str | bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message (``secret`` as text or as key bytes)."""
    key = secret if isinstance(secret, bytes) else decode_secret(secret)
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"{_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_headers(
    secret: str | bytes, webhook_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers of one message."""
    return {
        ID_HEADER: webhook_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, webhook_id, timestamp, body),
    }


def verify_signature(
    body: bytes,
    headers: Mapping[str, str],
    secret: str | bytes | Iterable[str | bytes],
    *,
    now: datetime | None = None,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> str:
    """Check a Standard Webhooks signature; return the message's ``webhook-id``.

    ``body`` is the raw body as received (not re-encoded JSON), ``headers`` any mapping of
    header names (in any case) to values, ``secret`` one secret or several (while rotating).
    ``now`` is when the request arrived (default: the wall clock). Raises
    :class:`~slarules.errors.AuthenticationError` saying what is missing, expired or wrong,
    never the expected signature.
    """
    keys = _keys(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = _required(lowered, ID_HEADER)
    timestamp = _timestamp(_required(lowered, TIMESTAMP_HEADER))
    _check_window(timestamp, now or datetime.now(UTC), tolerance)
    offered = _offered_signatures(_required(lowered, SIGNATURE_HEADER))
    for key in keys:
        expected = sign(key, webhook_id, timestamp, body).encode("ascii")
        # Compare against every offered signature, without stopping early on a mismatch.
        if any(hmac.compare_digest(expected, candidate.encode()) for candidate in offered):
            return webhook_id
    raise AuthenticationError(
        f"no `{SIGNATURE_HEADER}` matches: the body, id or timestamp changed on the way, "
        "or it was signed with another secret"
    )


def _keys(secret: str | bytes | Iterable[str | bytes]) -> list[bytes]:
    given = [secret] if isinstance(secret, str | bytes) else list(secret)
    if not given:
        raise ValueError("no secret to verify the signature with")
    return [key if isinstance(key, bytes) else decode_secret(key) for key in given]


def _required(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise AuthenticationError(f"missing `{name}` header: the request is not signed")
    return value


def _timestamp(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise AuthenticationError(f"`{TIMESTAMP_HEADER}` `{text}` is not Unix seconds")
    return int(text)


def _check_window(timestamp: int, now: datetime, tolerance: timedelta) -> None:
    if now.utcoffset() is None:
        raise ValueError(f"`now` must be aware, got {now.isoformat()}")
    skew = timestamp - now.timestamp()
    if abs(skew) > tolerance.total_seconds():
        when = "in the future" if skew > 0 else "old"
        raise AuthenticationError(
            f"expired signature: `{TIMESTAMP_HEADER}` is {abs(skew):.0f} s {when}, more than "
            f"the {tolerance.total_seconds():.0f} s allowed (a replay, or a clock out of sync)"
        )


def _offered_signatures(header: str) -> list[str]:
    # Other versions (`v1a`, asymmetric) may sit next to ours: skip them, not fail on them.
    offered = [part for part in header.split() if part.startswith(f"{_VERSION},")]
    if not offered:
        raise AuthenticationError(f"`{SIGNATURE_HEADER}` has no `{_VERSION},` signature")
    return offered
