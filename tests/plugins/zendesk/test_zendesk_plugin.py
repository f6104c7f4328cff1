"""The adapter found through its entry point, and its settings."""

from __future__ import annotations

import base64

import pytest
from conftest import SECRET
from slarules_zendesk import ZendeskAdapter

from slarules import PluginError
from slarules.plugins import Plugins
from slarules.testing import HelpdeskServer, Response

GOOD = {
    "subdomain": "acme",
    "email": "sla-bot@acme.example",
    "api_token": "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv",
    "signing_secret": SECRET,
}


def build(settings: dict[str, str]) -> object:
    return Plugins(settings={"zendesk": settings}, environ={}).adapter("zendesk")


def test_the_entry_point_registers_the_adapter_and_its_importer() -> None:
    plugins = Plugins(environ={})
    spec = plugins.adapters["zendesk"]
    assert spec.actions == {"notify", "urge", "escalate", "warn", "assign", "set", "tag"}
    assert spec.importer is not None
    assert spec.importer.inputs == ("policies", "schedules")
    adapter = build(GOOD)
    assert isinstance(adapter, ZendeskAdapter)
    assert adapter.client.base_url == "https://acme.zendesk.com/api/v2"


def test_settings_come_from_the_environment() -> None:
    environ = {f"SLARULES_ZENDESK_{key.upper()}": value for key, value in GOOD.items()}
    adapter = Plugins(environ=environ).adapter("zendesk")
    assert isinstance(adapter, ZendeskAdapter)
    assert adapter.settings.subdomain == "acme"


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"signing_secret": None}, "SLARULES_ZENDESK_SIGNING_SECRET"),
        ({"signing_secret": "short"}, "SLARULES_ZENDESK_SIGNING_SECRET"),
        ({"subdomain": "Not A Subdomain"}, "SLARULES_ZENDESK_SUBDOMAIN"),
        ({"subdomain": None}, "SLARULES_ZENDESK_BASE_URL"),
        ({"base_url": "http://127.0.0.1:9"}, "SLARULES_ZENDESK_SUBDOMAIN"),
        ({"api_token": None}, "SLARULES_ZENDESK_API_TOKEN"),
        ({"oauth_token": "bearer-token"}, "SLARULES_ZENDESK_OAUTH_TOKEN"),
        ({"email": None, "api_token": None}, "SLARULES_ZENDESK_OAUTH_TOKEN"),
        ({"api_user_id": "the bot"}, "SLARULES_ZENDESK_API_USER_ID"),
        ({"signature_tolerance_seconds": "-1"}, "SLARULES_ZENDESK_SIGNATURE_TOLERANCE_SECONDS"),
        ({"safe_update": "perhaps"}, "SLARULES_ZENDESK_SAFE_UPDATE"),
        ({"notify_tag": "two words"}, "SLARULES_ZENDESK_NOTIFY_TAG"),
        ({"colour": "blue"}, "SLARULES_ZENDESK_COLOUR"),
    ],
)
def test_bad_settings_name_their_variable(change: dict[str, str | None], variable: str) -> None:
    settings = {key: value for key, value in {**GOOD, **change}.items() if value is not None}
    with pytest.raises(PluginError, match=variable):
        build(settings)


def test_api_token_auth_is_basic_with_email_slash_token() -> None:
    with HelpdeskServer() as server:
        server.respond("GET", "/tickets/1", Response(200, {"ticket": {"id": 1}}))
        adapter = build({**GOOD, "subdomain": None, "base_url": server.url})  # type: ignore[dict-item]
        assert isinstance(adapter, ZendeskAdapter)
        adapter.client.ticket("1")
        expected = base64.b64encode(f"{GOOD['email']}/token:{GOOD['api_token']}".encode())
        assert server.requests[0].headers["authorization"] == f"Basic {expected.decode()}"


def test_oauth_auth_is_a_bearer_token() -> None:
    with HelpdeskServer() as server:
        server.respond("GET", "/tickets/1", Response(200, {"ticket": {"id": 1}}))
        settings = {"base_url": server.url, "oauth_token": "oauth-abc", "signing_secret": SECRET}
        adapter = build(settings)
        assert isinstance(adapter, ZendeskAdapter)
        adapter.client.ticket("1")
        assert server.requests[0].headers["authorization"] == "Bearer oauth-abc"
