"""Shared fixtures of the Zendesk adapter's tests: payload files and an adapter on a local
HelpdeskServer (real sockets, real httpx)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slarules_zendesk import ZendeskAdapter

from slarules.plugins import Plugins
from slarules.testing import HelpdeskServer

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="  # the test secret of Zendesk's docs
OWN_USER = "400000001"


def read_payload(name: str, base: str = "") -> Any:
    """A payload file; ``{base}`` in it (pagination links) becomes the server's address."""
    return json.loads((PAYLOADS / name).read_text("utf-8").replace("{base}", base))


def settings_for(url: str, **extra: str) -> dict[str, str]:
    return {
        "base_url": url,
        "email": "sla-bot@acme.example",
        "api_token": "6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv",
        "signing_secret": SECRET,
        "api_user_id": OWN_USER,
        **extra,
    }


@pytest.fixture
def load() -> Callable[..., Any]:
    return read_payload


@pytest.fixture
def server() -> Iterator[HelpdeskServer]:
    with HelpdeskServer() as running:
        yield running


@pytest.fixture
def make_adapter(server: HelpdeskServer) -> Iterator[Callable[..., ZendeskAdapter]]:
    built: list[ZendeskAdapter] = []

    def make(**extra: str) -> ZendeskAdapter:
        adapter = Plugins(settings={"zendesk": settings_for(server.url, **extra)}).adapter(
            "zendesk"
        )
        assert isinstance(adapter, ZendeskAdapter)
        built.append(adapter)
        return adapter

    yield make
    for adapter in built:
        adapter.close()


@pytest.fixture
def adapter(make_adapter: Callable[..., ZendeskAdapter]) -> ZendeskAdapter:
    return make_adapter()
