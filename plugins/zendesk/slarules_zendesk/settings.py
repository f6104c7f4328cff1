"""The adapter's settings: ``Engine(settings={"zendesk": {...}})`` or ``SLARULES_ZENDESK_*``."""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Annotated, Self

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from slarules.settings import load_settings, setting_name

__all__ = ["ZendeskSettings"]

_Text = Annotated[str, Field(min_length=1)]


def _name(key: str) -> str:
    return setting_name("zendesk", key)


class ZendeskSettings(BaseModel):
    """Where the account is, how to call its API, and how to check its webhooks' signatures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The account of https://{subdomain}.zendesk.com; `base_url` replaces it (tests, proxies).
    subdomain: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")] | None = None
    base_url: _Text | None = None
    # API token auth (`{email}/token:{api_token}`), or an OAuth access token: exactly one.
    email: _Text | None = None
    api_token: _Text | None = None
    oauth_token: _Text | None = None
    # The webhook's signing secret (GET /api/v2/webhooks/{id}/signing_secret).
    signing_secret: Annotated[str, Field(min_length=16)]
    # How far a signature's timestamp may be from the arrival time: older ones are replays.
    signature_tolerance_seconds: Annotated[int, Field(gt=0, le=3600)] = 300
    # The Zendesk user id the engine's notes are written as: its comments are not replies.
    api_user_id: Annotated[str, Field(pattern=r"^[0-9]+$")] | None = None
    # A tag that notify and urge also add, for a Zendesk trigger that emails someone.
    notify_tag: Annotated[str, Field(pattern=r"^[^\s,]+$")] | None = None
    # Send `safe_update` with the ticket's `updated_at`, so a concurrent edit is a 409 (retried).
    safe_update: bool = False
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0

    @model_validator(mode="after")
    def _one_address(self) -> Self:
        if (self.subdomain is None) == (self.base_url is None):
            raise ValueError(f"give exactly one of {_name('subdomain')} and {_name('base_url')}")
        return self

    @model_validator(mode="after")
    def _one_credential(self) -> Self:
        token_auth = self.email is not None or self.api_token is not None
        if token_auth and (self.email is None or self.api_token is None):
            raise ValueError(
                f"API token authentication needs both {_name('email')} and {_name('api_token')}"
            )
        if token_auth == (self.oauth_token is not None):
            raise ValueError(
                f"give either {_name('email')} and {_name('api_token')}, or {_name('oauth_token')}"
            )
        return self

    @property
    def api_url(self) -> str:
        if self.base_url is not None:
            return self.base_url.rstrip("/")
        return f"https://{self.subdomain}.zendesk.com/api/v2"

    def auth(self) -> httpx.Auth:
        if self.oauth_token is not None:
            return _Bearer(self.oauth_token)
        # Zendesk's API token auth is Basic with the user name `{email}/token`.
        return httpx.BasicAuth(f"{self.email}/token", str(self.api_token))

    @classmethod
    def load(cls, settings: Mapping[str, str]) -> ZendeskSettings:
        """The settings, or :class:`PluginError` naming each bad one by its variable."""
        return load_settings(cls, "zendesk", settings)


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request
