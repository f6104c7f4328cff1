"""What slarules gives plugin authors besides the hooks: settings named by their variables, and
HTTP answers turned into retryable or permanent action errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Self

import pytest
from pydantic import BaseModel, ConfigDict, Field, model_validator

from slarules import ActionError, Event, EventError, PluginError, load_settings, setting_name

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class DeskSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str | None = None
    account: str | None = None
    token: str = Field(min_length=8)
    timeout_seconds: float = 10.0

    @model_validator(mode="after")
    def _one_address(self) -> Self:
        if (self.base_url is None) == (self.account is None):
            url, account = setting_name("desk", "base_url"), setting_name("desk", "account")
            raise ValueError(f"give one of {url} and {account}")
        return self


def test_settings_are_read_as_their_model_says() -> None:
    loaded = load_settings(DeskSettings, "desk", {"account": "acme", "token": "0123456789",
                                                  "timeout_seconds": "2.5"})  # fmt: skip
    assert (loaded.account, loaded.timeout_seconds) == ("acme", 2.5)


def test_every_bad_setting_is_named_by_its_variable_at_once() -> None:
    with pytest.raises(PluginError) as raised:
        load_settings(DeskSettings, "desk", {"token": "short", "colour": "red",
                                             "timeout_seconds": "soon"})  # fmt: skip
    message = str(raised.value)
    assert message.startswith("desk: ")
    assert "`SLARULES_DESK_TOKEN` (token): String should have at least 8 characters" in message
    assert "`SLARULES_DESK_COLOUR` (colour): not a setting of this plugin" in message
    assert "`SLARULES_DESK_TIMEOUT_SECONDS` (timeout_seconds)" in message


def test_a_rule_about_several_settings_names_them_itself() -> None:
    with pytest.raises(PluginError, match=r"give one of `SLARULES_DESK_BASE_URL` \(base_url\)"):
        load_settings(DeskSettings, "desk", {"token": "0123456789"})
    with pytest.raises(PluginError, match=r"`SLARULES_DESK_TOKEN` \(token\): required"):
        load_settings(DeskSettings, "desk", {"account": "acme"})


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503])
def test_throttling_timeouts_and_server_errors_are_retried(status: int) -> None:
    error = ActionError.for_status(status, f"answered {status}", retry_after="7")
    assert (error.permanent, error.retry_after, str(error)) == (False, 7.0, f"answered {status}")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_other_refusals_are_permanent(status: int) -> None:
    assert ActionError.for_status(status, "no", retry_after="7").permanent


def test_a_plugin_may_retry_more_statuses() -> None:
    error = ActionError.for_status(409, "lost a race", retryable={409})
    assert not error.permanent


def test_retry_after_as_seconds_or_as_an_http_date() -> None:
    assert ActionError.for_status(429, "x", retry_after=" 2.5 ").retry_after == 2.5
    assert ActionError.for_status(429, "x", retry_after="-3").retry_after == 0.0
    date = "Mon, 02 Mar 2026 09:01:30 GMT"
    assert ActionError.for_status(429, "x", retry_after=date, now=NOW).retry_after == 90.0
    # Without `now` a date cannot be measured: the runner's own backoff decides.
    assert ActionError.for_status(429, "x", retry_after=date).retry_after is None
    assert ActionError.for_status(429, "x", retry_after="soon", now=NOW).retry_after is None
    assert ActionError.for_status(503, "x").retry_after is None


def test_an_event_built_from_a_bad_payload_is_a_payload_error_saying_where() -> None:
    with pytest.raises(EventError) as raised:
        Event.parse({"id": "e1", "ticket": "", "type": "ticket.created", "at": "2026-03-02"})
    plain = raised.value.as_payload_error()
    assert plain.field == "ticket"
    assert "; also `at`:" in plain.reason
    located = raised.value.as_payload_error(lambda field, why: (f"/body/{field}", why))
    assert (located.field, str(located).startswith("`/body/ticket`")) == ("/body/ticket", True)
