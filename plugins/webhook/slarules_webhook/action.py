"""The outbound action ``webhook "https://…"``: POST the action, signed, to that URL.

Any further arguments travel in the body's ``args`` (the URL is ``args[0]``), so a policy can
say ``webhook "https://hooks.example.com/sla" "resolution due at {resolution.due_at}"``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from slarules.actions import Action
from slarules.errors import ActionError
from slarules.specs import ActionContext, ActionSpec
from slarules_webhook.outbound import WebhookSender
from slarules_webhook.settings import WebhookSettings, is_http_url, setting_name

__all__ = ["WebhookAction"]


class WebhookAction:
    """The ``webhook`` action; ``clock`` gives the Unix seconds of each signature."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock

    def spec(self) -> ActionSpec:
        return ActionSpec(
            name="webhook",
            summary="POST the action as signed JSON (Standard Webhooks) to a URL",
            execute=self.execute,
        )

    def execute(self, action: Action, context: ActionContext) -> None:
        settings = WebhookSettings.load(context.settings)
        url = _target_url(action, settings)
        sender = WebhookSender(settings.require_signing(), settings.timeout_seconds, self._clock)
        sender.send(url, action, context.attempt)


def _target_url(action: Action, settings: WebhookSettings) -> str:
    url = action.args[0] if action.args else None
    if not url:
        raise ActionError(
            f'`webhook` on ticket `{action.ticket}` needs a URL: `webhook "https://…"`',
            permanent=True,
        )
    if not is_http_url(url):
        raise ActionError(
            f"`webhook` on ticket `{action.ticket}`: `{url}` is not an http:// or https:// URL",
            permanent=True,
        )
    prefixes = settings.url_prefixes
    if prefixes and not any(url.startswith(prefix) for prefix in prefixes):
        raise ActionError(
            f"`webhook` on ticket `{action.ticket}`: `{url}` is not under "
            f"{setting_name('allowed_urls')}: {', '.join(prefixes)}",
            permanent=True,
        )
    return url
