"""The generic adapter: any helpdesk that can send an HTTP request, at ``POST /hooks/webhook``.

What a request holds is told by its headers:

* ``Content-Type: application/cloudevents+json`` or ``application/cloudevents-batch+json``,
  or ``ce-*`` headers: CloudEvents (:mod:`slarules_webhook.cloudevents`);
* any other JSON, with a ``mapping`` setting: a custom payload, read through the field mapping
  (:mod:`slarules_webhook.mapping`);
* any other JSON, without one: one normalized event, or a list of them.

Ticket actions (``notify``, ``tag``, ``set``, …) for the tickets it feeds are forwarded, signed
the same way as the ``webhook`` action, to the ``action_url`` setting: the helpdesk knows how to
carry them out, slarules does not.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import quote

from slarules.actions import Action
from slarules.errors import ActionError, AuthenticationError, PayloadError
from slarules.events import Event
from slarules.specs import ActionContext, InboundRequest
from slarules_webhook import cloudevents
from slarules_webhook.mapping import FieldMapping, load_mapping
from slarules_webhook.normalized import plain_events
from slarules_webhook.outbound import WebhookSender
from slarules_webhook.settings import WebhookSettings, setting_name
from slarules_webhook.signing import verify_signature

__all__ = ["FORWARDED_ACTIONS", "WebhookAdapter"]

FORWARDED_ACTIONS = frozenset({"notify", "urge", "escalate", "assign", "set", "tag", "warn"})
_BEARER = "bearer "


class WebhookAdapter:
    """One custom helpdesk, built from its :class:`WebhookSettings`."""

    def __init__(self, settings: WebhookSettings, mapping: FieldMapping | None = None) -> None:
        settings.require_inbound()
        self.settings = settings
        self.mapping = mapping or FieldMapping()
        self._keys = settings.inbound_keys
        self._tolerance = timedelta(seconds=settings.tolerance_seconds)

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> WebhookAdapter:
        loaded = WebhookSettings.load(settings)
        mapping = load_mapping(loaded.mapping) if loaded.mapping is not None else None
        return cls(loaded, mapping)

    # -- requests in -----------------------------------------------------------------------

    def authenticate(self, request: InboundRequest) -> None:
        """Every configured check must pass: the bearer token, and the Standard Webhooks
        signature inside ``tolerance_seconds`` of ``request.received_at``."""
        if self.settings.inbound_token is not None:
            self._check_token(request, self.settings.inbound_token)
        if self._keys:
            verify_signature(
                request.body,
                request.headers,
                self._keys,
                now=request.received_at,
                tolerance=self._tolerance,
            )

    def parse(self, request: InboundRequest) -> list[Event]:
        media = _media_type(request.header("content-type"))
        types = self.mapping.cloudevents.resolved
        if media == cloudevents.BATCH:
            return cloudevents.from_batch(request.json(), types)
        if media == cloudevents.STRUCTURED:
            return cloudevents.from_structured(request.json(), types)
        if request.header("ce-specversion") is not None:
            return cloudevents.from_binary(request.headers, _binary_data(request, media), types)
        if self.mapping.maps_payloads:
            return self.mapping.to_events(request.json())
        return plain_events(request.json())

    # -- actions out -----------------------------------------------------------------------

    def execute(self, action: Action, context: ActionContext) -> None:
        """Forward a ticket action to ``action_url``, signed, with the action's key."""
        template = self.settings.action_url
        if template is None:
            raise ActionError(
                f"the webhook adapter forwards `{action.name}` for ticket `{action.ticket}` "
                f"to {setting_name('action_url')}, which is not set",
                permanent=True,
            )
        url = template.replace("{ticket}", quote(action.ticket, safe="")).replace(
            "{action}", quote(action.name, safe="")
        )
        sender = WebhookSender(self.settings.require_signing(), self.settings.timeout_seconds)
        sender.send(url, action, context.attempt)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _check_token(request: InboundRequest, token: str) -> None:
        given = request.header("authorization") or ""
        if not given.lower().startswith(_BEARER):
            raise AuthenticationError("missing token: send `Authorization: Bearer <token>`")
        offered = given[len(_BEARER) :].strip()
        if not hmac.compare_digest(offered.encode(), token.encode()):
            raise AuthenticationError("wrong bearer token")


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _binary_data(request: InboundRequest, media: str) -> object:
    if not request.body.strip():
        return None
    if media and not cloudevents.is_json_type(media):
        raise PayloadError("content-type", f"`{media}`: slarules reads JSON data only")
    return request.json()
