"""Signed webhooks out: the body that describes an action, the headers, one POST, its outcome.

The body is Standard Webhooks' recommended envelope, ``{"type", "timestamp", "data"}``, with the
action in ``data``. It is a function of the action alone, so every attempt sends the same bytes;
the signature's timestamp is the attempt's own (read from the wall clock: this is the edge, not
the engine). ``webhook-id`` and ``Idempotency-Key`` are the action's idempotency key, so a
receiver that records them never acts twice on a retry.

Outcomes: 2xx is delivered; 408, 425, 429, 5xx, timeouts and connection errors are retryable
:class:`~slarules.errors.ActionError` (with ``retry_after`` from ``Retry-After``); anything
else, redirects included, is permanent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from slarules.actions import Action
from slarules.errors import ActionError
from slarules_webhook._version import __version__
from slarules_webhook.signing import signature_headers

__all__ = ["ACTION_TYPE", "USER_AGENT", "WebhookSender", "action_body", "action_data"]

ACTION_TYPE = "slarules.action"
USER_AGENT = f"slarules-webhook/{__version__}"
# Header values must be printable ASCII; anything else in a key (a ticket id in another
# script, a control character) is percent-encoded there, never sent raw.
_HEADER_SAFE = "".join(chr(code) for code in range(0x21, 0x7F) if chr(code) != "%")


def action_data(action: Action) -> dict[str, Any]:
    """The action as JSON: what the receiver needs to act, and its idempotency key."""
    return {
        "name": action.name,
        "args": list(action.args),
        "ticket": action.ticket,
        "trigger": action.trigger,
        "clock": action.clock,
        "cycle": action.cycle,
        "at": action.at.isoformat().replace("+00:00", "Z"),
        "reason": action.reason,
        "key": action.key,
    }


def action_body(action: Action) -> bytes:
    envelope = {
        "type": ACTION_TYPE,
        "timestamp": action_data(action)["at"],
        "data": action_data(action),
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def header_safe(text: str) -> str:
    return quote(text, safe=_HEADER_SAFE)


class WebhookSender:
    """Posts signed action webhooks; ``clock`` gives the Unix seconds of each signature."""

    def __init__(self, secret: str, timeout: float, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._timeout = timeout
        self._clock = clock

    def send(self, url: str, action: Action, attempt: int = 1) -> None:
        body = action_body(action)
        key = header_safe(action.key)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "idempotency-key": key,
            "slarules-attempt": str(attempt),
            **signature_headers(self._secret, key, int(self._clock()), body),
        }
        where = f"`{action.name}` webhook to {url}"
        try:
            # One client per delivery: settings may differ per engine, and deliveries are rare
            # next to the cost of a connection.
            with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
                response = client.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise ActionError(f"{where} timed out after {self._timeout:g} s") from None
        except httpx.HTTPError as error:
            raise ActionError(f"{where} failed: {type(error).__name__}: {error}") from None
        _raise_for_status(where, response)


def _raise_for_status(where: str, response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    message = f"{where} answered {status} {response.reason_phrase}".rstrip()
    if 300 <= status < 400:
        location = response.headers.get("location", "nowhere")
        raise ActionError(
            f"{message}: redirects are not followed (to {location}); give the final URL",
            permanent=True,
        )
    retry_after = response.headers.get("retry-after")
    raise ActionError.for_status(status, message, retry_after=retry_after, now=datetime.now(UTC))
