"""``slarules new-plugin NAME``: a working adapter distribution to start from.

The scaffold is small but real: an adapter for a helpdesk that posts JSON with a shared token
and takes ticket actions over HTTP, registered through the ``slarules`` entry point, with tests
that use the fixtures of :mod:`slarules.testing` and pass as generated.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from slarules import __version__

__all__ = ["scaffold"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

_PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[project]
name = "slarules-$dist"
version = "0.1.0"
description = "slarules adapter for $title"
requires-python = ">=3.11"
dependencies = [
    "slarules>=$slarules_version",
    # The HTTP client for the helpdesk's API: timeouts, connection pooling, clear errors.
    "httpx>=0.27",
]

# How slarules finds the plugin: the entry-point name is the plugin's name, and the prefix of
# its settings (SLARULES_${upper}_BASE_URL, SLARULES_${upper}_TOKEN).
[project.entry-points.slarules]
$name = "slarules_$name.plugin"

[tool.hatch.build.targets.wheel]
packages = ["slarules_$name"]
"""

_README = """\
# slarules-$dist

A [slarules](https://github.com/slarules/slarules) adapter for $title.

* Webhooks: `POST /hooks/$name` with `Authorization: Bearer <token>` and a JSON body
  `{"id": "...", "ticket": "...", "kind": "created|updated|replied", "at": "<ISO 8601>",
  "fields": {...}, "author": {"id": "...", "agent": true}, "public": true}`.
* Ticket actions (`tag`, `set`, `notify`): `POST <base_url>/tickets/<id>/actions`.
* Settings: `SLARULES_${upper}_TOKEN`, `SLARULES_${upper}_BASE_URL`.

Run the tests with `pytest` after `pip install -e .`.
"""

_PLUGIN = '''\
"""The $title adapter: its webhooks become slarules events, its API carries out actions."""

from __future__ import annotations

import hmac
from collections.abc import Mapping

import httpx
from pydantic import BaseModel, ConfigDict

from slarules import (
    Action,
    ActionContext,
    ActionError,
    AdapterSpec,
    AuthenticationError,
    Event,
    EventError,
    InboundRequest,
    PayloadError,
    hookimpl,
    load_settings,
)

KINDS = {"created": "ticket.created", "updated": "ticket.updated", "replied": "ticket.replied"}


class ${cls}Settings(BaseModel):
    """``SLARULES_${upper}_BASE_URL`` and ``SLARULES_${upper}_TOKEN``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    token: str


class ${cls}Adapter:
    def __init__(self, base_url: str, token: str) -> None:
        self.token = token
        self.client = httpx.Client(base_url=base_url, timeout=10.0)

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> ${cls}Adapter:
        loaded = load_settings(${cls}Settings, "$name", settings)
        return cls(loaded.base_url, loaded.token)

    def authenticate(self, request: InboundRequest) -> None:
        given = request.header("authorization") or ""
        if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            raise AuthenticationError("missing or wrong bearer token")

    def parse(self, request: InboundRequest) -> list[Event]:
        body = request.json()
        if not isinstance(body, dict):
            raise PayloadError("body", "expected a JSON object")
        kind = body.get("kind")
        if kind not in KINDS:
            raise PayloadError("kind", f"unknown kind `{kind}`; expected one of {', '.join(KINDS)}")
        author = body.get("author") or {}
        try:
            return [
                Event.parse(
                    {
                        "id": body.get("id"),
                        "ticket": body.get("ticket"),
                        "type": KINDS[kind],
                        "at": body.get("at"),
                        "fields": body.get("fields") or {},
                        "actor": {
                            "id": author.get("id"),
                            "role": "agent" if author.get("agent") else "requester",
                        },
                        "public": body.get("public", True),
                    }
                )
            ]
        except EventError as error:
            raise error.as_payload_error() from None

    def execute(self, action: Action, context: ActionContext) -> None:
        try:
            response = self.client.post(
                f"/tickets/{action.ticket}/actions",
                json={"action": action.name, "args": list(action.args), "reason": action.reason},
                headers={"Idempotency-Key": action.key},
            )
        except httpx.HTTPError as error:
            raise ActionError(f"$name is unreachable: {error}") from None
        if response.status_code >= 400:
            raise ActionError.for_status(
                response.status_code,
                f"$name answered {response.status_code}",
                retry_after=response.headers.get("retry-after"),
            )


@hookimpl
def slarules_adapters() -> list[AdapterSpec]:
    return [
        AdapterSpec(
            name="$name",
            summary="$title webhooks and ticket actions",
            create=${cls}Adapter.from_settings,
            actions=frozenset({"notify", "urge", "warn", "escalate", "tag", "set"}),
        )
    ]
'''

_TESTS = '''\
"""The $title adapter, through the fixtures of slarules.testing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from slarules import AuthenticationError, InboundRequest, PayloadError, Plugins
from slarules.testing import HelpdeskServer, Response

POLICY = """
policy "All" { applies when true  first_response within 1h }
trigger "late" when first_response.breached then tag "late"
"""
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def webhook(body: object, token: str = "t0ken") -> InboundRequest:
    return InboundRequest(
        body=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}"},
        received_at=NOW,
    )


CREATED = {"id": "w-1", "ticket": "42", "kind": "created", "at": "2026-03-02T09:00:00Z",
           "fields": {"status": "open"}, "author": {"id": "c-7", "agent": False}}


def test_the_adapter_is_registered_through_its_entry_point() -> None:
    assert "$name" in Plugins().adapters


def test_a_late_first_response_tags_the_ticket_through_the_api(
    make_engine, helpdesk: HelpdeskServer
) -> None:
    helpdesk.respond("POST", "/tickets/42/actions", Response(200, {}))
    engine = make_engine(POLICY, settings={"$name": {"base_url": helpdesk.url, "token": "t0ken"}})
    engine.receive("$name", webhook(CREATED))
    deliveries = engine.execute(engine.advance(NOW + timedelta(hours=2)))
    assert [delivery.ok for delivery in deliveries] == [True]
    [request] = helpdesk.requests
    assert request.json()["action"] == "tag"
    assert request.headers["idempotency-key"] == deliveries[0].action.key


def test_a_wrong_token_is_refused_and_kept(make_engine, helpdesk: HelpdeskServer) -> None:
    engine = make_engine(POLICY, settings={"$name": {"base_url": helpdesk.url, "token": "t0ken"}})
    with pytest.raises(AuthenticationError):
        engine.receive("$name", webhook(CREATED, token="wrong"))
    assert [item.stage for item in engine.rejected] == ["authentication"]


def test_an_unknown_kind_names_the_field(make_engine, helpdesk: HelpdeskServer) -> None:
    engine = make_engine(POLICY, settings={"$name": {"base_url": helpdesk.url, "token": "t0ken"}})
    with pytest.raises(PayloadError) as error:
        engine.receive("$name", webhook({**CREATED, "kind": "deleted"}))
    assert error.value.field == "kind"
'''


def scaffold(name: str, directory: Path) -> Path:
    """Write the distribution ``slarules-<name>`` under ``directory``; return its folder."""
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"`{name}` is not a plugin name: use lower case letters, digits and underscores, "
            "starting with a letter"
        )
    root = directory / f"slarules-{name.replace('_', '-')}"
    if root.exists():
        raise FileExistsError(f"`{root}` already exists")
    values = {
        "name": name,
        "dist": name.replace("_", "-"),
        "title": name.replace("_", " ").title(),
        "cls": "".join(part.title() for part in name.split("_")),
        "upper": name.upper(),
        "slarules_version": __version__,
    }
    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"slarules_{name}/__init__.py": '"""slarules adapter for $title."""\n',
        f"slarules_{name}/plugin.py": _PLUGIN,
        f"tests/test_{name}.py": _TESTS,
    }
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(template).substitute(values), encoding="utf-8")
    return root
