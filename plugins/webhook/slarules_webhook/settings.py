"""The plugin's settings: ``Engine(settings={"webhook": {...}})`` or ``SLARULES_WEBHOOK_*``.

The inbound adapter and the outbound ``webhook`` action share one plugin, so they share these
settings; each checks only what it needs (:meth:`WebhookSettings.require_inbound`,
:meth:`WebhookSettings.require_signing`), so a host that only sends webhooks configures no
inbound authentication, and one that only receives them needs no signing secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from slarules.errors import PluginError
from slarules.settings import load_settings
from slarules.settings import setting_name as core_setting_name
from slarules_webhook.signing import decode_secret

__all__ = ["WebhookSettings", "setting_name"]

_Text = Annotated[str, Field(min_length=1)]


def setting_name(key: str) -> str:
    """How a setting is named in messages: its variable, then its key."""
    return core_setting_name("webhook", key)


class WebhookSettings(BaseModel):
    """How requests in are authenticated and read, and how webhooks out are signed and sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- in --
    # A shared secret that helpdesks send as `Authorization: Bearer <token>`.
    inbound_token: Annotated[str, Field(min_length=16)] | None = None
    # Standard Webhooks secrets (`whsec_…`), space-separated: any of them may sign (rotation).
    inbound_secret: _Text | None = None
    # How far `webhook-timestamp` may be from the time a request was received.
    tolerance_seconds: Annotated[int, Field(gt=0)] = 300
    # The field mapping of a custom helpdesk's payloads: a JSON or TOML file, or inline JSON.
    mapping: _Text | None = None
    # -- out --
    # The Standard Webhooks secret that signs the `webhook` action and forwarded ticket actions.
    signing_secret: _Text | None = None
    # Where the adapter forwards ticket actions (`notify`, `tag`, …) for the tickets it feeds;
    # `{ticket}` and `{action}` are filled in, URL-encoded.
    action_url: _Text | None = None
    # Space-separated URL prefixes that `webhook "…"` may call; unset: any http(s) URL.
    allowed_urls: _Text | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0

    @field_validator("inbound_secret")
    @classmethod
    def _secrets_decode(cls, value: str | None) -> str | None:
        if value is not None:
            for secret in value.split():
                decode_secret(secret)
        return value

    @field_validator("signing_secret")
    @classmethod
    def _secret_decodes(cls, value: str | None) -> str | None:
        if value is not None:
            decode_secret(value)
        return value

    @field_validator("action_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not is_http_url(value.replace("{", "").replace("}", "")):
            raise ValueError(f"`{value}` is not an http:// or https:// URL")
        return value

    @field_validator("allowed_urls")
    @classmethod
    def _http_prefixes(cls, value: str | None) -> str | None:
        for prefix in (value or "").split():
            if not is_http_url(prefix):
                raise ValueError(f"`{prefix}` is not an http:// or https:// URL")
        return value

    @property
    def inbound_keys(self) -> list[bytes]:
        return [decode_secret(secret) for secret in (self.inbound_secret or "").split()]

    @property
    def url_prefixes(self) -> list[str]:
        return (self.allowed_urls or "").split()

    def require_inbound(self) -> None:
        """:class:`PluginError` unless requests in can be authenticated."""
        if self.inbound_token is None and self.inbound_secret is None:
            raise PluginError(
                "webhook: the adapter authenticates every request: set "
                f"{setting_name('inbound_token')} or {setting_name('inbound_secret')}, or both"
            )

    def require_signing(self) -> str:
        """The signing secret, or :class:`PluginError` naming it."""
        if self.signing_secret is None:
            raise PluginError(
                f"webhook: {setting_name('signing_secret')} is required to sign outgoing "
                "webhooks (make one with `slarules_webhook.generate_secret()`)"
            )
        return self.signing_secret

    @classmethod
    def load(cls, settings: Mapping[str, str]) -> WebhookSettings:
        """The settings, or :class:`PluginError` naming each bad one by its variable."""
        return load_settings(cls, "webhook", settings)


def is_http_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.hostname)
