"""slarules-webhook: generic webhooks and CloudEvents in, signed webhooks out
(docs/plugins/webhook.md)."""

from slarules_webhook._version import __version__
from slarules_webhook.action import WebhookAction
from slarules_webhook.adapter import FORWARDED_ACTIONS, WebhookAdapter
from slarules_webhook.mapping import FieldMapping, Rule, load_mapping
from slarules_webhook.outbound import ACTION_TYPE, WebhookSender, action_body, action_data
from slarules_webhook.settings import WebhookSettings
from slarules_webhook.signing import (
    generate_secret,
    sign,
    signature_headers,
    verify_signature,
)

__all__ = [
    "ACTION_TYPE",
    "FORWARDED_ACTIONS",
    "FieldMapping",
    "Rule",
    "WebhookAction",
    "WebhookAdapter",
    "WebhookSender",
    "WebhookSettings",
    "__version__",
    "action_body",
    "action_data",
    "generate_secret",
    "load_mapping",
    "sign",
    "signature_headers",
    "verify_signature",
]
