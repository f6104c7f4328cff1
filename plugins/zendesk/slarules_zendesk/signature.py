"""Zendesk's webhook signatures.

Every webhook request carries ``X-Zendesk-Webhook-Signature``, the base64 of
HMAC-SHA256(signing secret, ``X-Zendesk-Webhook-Signature-Timestamp`` + raw body), with no
separator; the timestamp is ISO-8601. A timestamp far from the arrival time is a replay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from slarules.errors import AuthenticationError
from slarules.specs import InboundRequest

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "sign", "verify"]

SIGNATURE_HEADER = "x-zendesk-webhook-signature"
TIMESTAMP_HEADER = "x-zendesk-webhook-signature-timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature Zendesk sends for ``body`` signed at ``timestamp`` (also for tests)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(request: InboundRequest, secret: str, tolerance: timedelta) -> None:
    """Raise :class:`AuthenticationError` unless the request is signed with ``secret`` at an
    instant within ``tolerance`` of its arrival."""
    signature = request.header(SIGNATURE_HEADER)
    timestamp = request.header(TIMESTAMP_HEADER)
    if not signature:
        raise AuthenticationError("missing signature: no `X-Zendesk-Webhook-Signature` header")
    if not timestamp:
        raise AuthenticationError(
            "missing signature timestamp: no `X-Zendesk-Webhook-Signature-Timestamp` header"
        )
    signed_at = _instant(timestamp)
    drift = request.received_at - signed_at
    if abs(drift) > tolerance:
        direction = "old" if drift > timedelta(0) else "in the future"
        raise AuthenticationError(
            f"signature timestamp `{timestamp}` is {_seconds(abs(drift))} {direction}; "
            f"accepted: within {_seconds(tolerance)} of arrival (a replay, or a wrong clock)"
        )
    expected = sign(secret, timestamp, request.body)
    # Compare as bytes in constant time, so the check does not leak how much of it matched.
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise AuthenticationError(
            "wrong signature: the body or timestamp was altered, or the signing secret differs"
        )


def _instant(timestamp: str) -> datetime:
    try:
        instant = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        instant = None
    if instant is None or instant.utcoffset() is None:
        raise AuthenticationError(
            f"signature timestamp `{timestamp}` is not an ISO-8601 instant with its offset"
        )
    return instant


def _seconds(span: timedelta) -> str:
    return f"{int(span.total_seconds())}s"
