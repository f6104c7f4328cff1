"""The adapter's settings: ``Engine(settings={"liveagent": {...}})`` or ``SLARULES_LIVEAGENT_*``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from slarules.errors import CalendarError
from slarules.settings import load_settings, setting_name
from slarules.timezones import get_zone

__all__ = ["LiveAgentSettings"]

_Text = Annotated[str, Field(min_length=1)]


class LiveAgentSettings(BaseModel):
    """Where the account is, how to reach it, and how to recognise its Rules' requests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # The account name of https://{account}.ladesk.com; `base_url` replaces it (tests, proxies).
    account: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")] | None = None
    base_url: _Text | None = None
    api_key: _Text
    # The secret that LiveAgent Rules send in `X-Slarules-Token` or `?token=`: their HTTP
    # requests are not signed, so a shared token is all there is.
    inbound_token: Annotated[str, Field(min_length=16)]
    # The account's time zone: LiveAgent dates carry no offset.
    timezone: _Text = "UTC"
    # The tag that notify, urge and warn add; a LiveAgent Rule turns it into a note or an email.
    notify_tag: _Text = "sla-notify"
    # How long `set "status" "hold"` postpones a ticket: LiveAgent's hold needs an end.
    hold_hours: Annotated[int, Field(gt=0)] = 24
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            get_zone(name)
        except CalendarError as error:
            raise ValueError(str(error)) from None
        return name

    @model_validator(mode="after")
    def _one_address(self) -> Self:
        if (self.account is None) == (self.base_url is None):
            raise ValueError(
                f"give exactly one of {setting_name('liveagent', 'account')} and "
                f"{setting_name('liveagent', 'base_url')}"
            )
        return self

    @property
    def api_url(self) -> str:
        if self.base_url is not None:
            return self.base_url.rstrip("/")
        return f"https://{self.account}.ladesk.com/api/v3"

    @classmethod
    def load(cls, settings: Mapping[str, str]) -> LiveAgentSettings:
        """The settings, or :class:`PluginError` naming each bad one by its variable."""
        return load_settings(cls, "liveagent", settings)
