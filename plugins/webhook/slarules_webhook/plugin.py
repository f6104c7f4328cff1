"""The hooks that register the generic webhook adapter and the ``webhook`` action."""

from __future__ import annotations

from slarules import ActionSpec, AdapterSpec, hookimpl
from slarules_webhook.action import WebhookAction
from slarules_webhook.adapter import FORWARDED_ACTIONS, WebhookAdapter


@hookimpl
def slarules_adapters() -> list[AdapterSpec]:
    return [
        AdapterSpec(
            name="webhook",
            summary="custom helpdesks: mapped JSON, CloudEvents, signed or token-authenticated",
            create=WebhookAdapter.from_settings,
            actions=FORWARDED_ACTIONS,
        )
    ]


@hookimpl
def slarules_actions() -> list[ActionSpec]:
    return [WebhookAction().spec()]
