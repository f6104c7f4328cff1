"""What plugins register: the typed specs that the registration hooks return.

A plugin never hands slarules a bare function: it returns specs that name what it adds and carry
a one-line summary, so ``slarules plugins`` can list everything installed and two plugins that
claim the same name are caught before anything runs (:mod:`slarules.plugins`).

* :class:`AdapterSpec`: a helpdesk: requests in (:meth:`Adapter.parse`), ticket actions out
  (:meth:`Adapter.execute`), optionally an importer of its SLA settings into a policy file;
* :class:`ActionSpec`: an action that policy files can name (``then notify …``);
* :class:`FunctionSpec`: a function that conditions can call;
* :class:`CalendarSpec`: a named business calendar that policies can use (``calendar name``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from slarules.actions import Action
from slarules.calendar import Calendar
from slarules.errors import PayloadError
from slarules.events import Event

__all__ = [
    "ActionContext",
    "ActionSpec",
    "Adapter",
    "AdapterSpec",
    "CalendarSpec",
    "FunctionSpec",
    "ImporterSpec",
    "InboundRequest",
    "ValueType",
]

# Names appear in policy files and URLs (`/hooks/zendesk`): lower case, digits and underscores.
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
ValueType = Literal["string", "number", "duration", "percent", "boolean", "instant", "list", "any"]

_SPEC = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


@dataclass(frozen=True, kw_only=True)
class InboundRequest:
    """One HTTP request that a helpdesk sent to an adapter, exactly as received.

    Header names are lower case. ``received_at`` comes from the caller (the server's clock), so
    signature windows are checked against it and tests can fix it.
    """

    body: bytes
    received_at: datetime
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"

    def __post_init__(self) -> None:
        if self.received_at.utcoffset() is None:
            raise ValueError(f"`received_at` must be aware, got {self.received_at.isoformat()}")
        lowered = {name.lower(): value for name, value in self.headers.items()}
        object.__setattr__(self, "headers", lowered)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body as JSON, or :class:`PayloadError` saying why it is not."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise PayloadError("body", f"not UTF-8 (byte {error.start})") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise PayloadError(
                "body", f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
            ) from None


@dataclass(frozen=True)
class ActionContext:
    """What an action's executor knows besides the action: the adapter of the helpdesk that feeds
    the ticket (``None`` for tickets fed as normalized events, and when that adapter cannot
    start: ``adapter_error`` then says why), which attempt this is, and the settings of the
    plugin that registered the action."""

    source: str | None = None
    adapter: Adapter | None = None
    adapter_actions: frozenset[str] = frozenset()
    attempt: int = 1
    # The settings of the plugin that registered the action (`SLARULES_<PLUGIN>_<SETTING>`).
    settings: Mapping[str, str] = field(default_factory=dict)
    adapter_error: str | None = None


class Adapter(Protocol):
    """A connection to one helpdesk, built by :attr:`AdapterSpec.create` from its settings."""

    def authenticate(self, request: InboundRequest) -> None:
        """Raise :class:`~slarules.errors.AuthenticationError` unless the request comes from the
        helpdesk (a valid signature inside its time window, or the shared token)."""

    def parse(self, request: InboundRequest) -> list[Event]:
        """The normalized events in an authenticated request (none for a kind that does not
        concern SLAs), or :class:`~slarules.errors.PayloadError` naming the field at fault."""
        ...

    def execute(self, action: Action, context: ActionContext) -> None:
        """Carry out a ticket action (a note, a tag, a priority) through the helpdesk's API, or
        raise :class:`~slarules.errors.ActionError`. ``action.key`` is the idempotency key."""


class ImporterSpec(BaseModel):
    """Turns a helpdesk's exported SLA settings into policy-file text.

    ``inputs`` names the export files it reads (``slarules import zendesk --policies FILE
    --schedules FILE``); ``convert`` receives each file's parsed JSON by that name.
    """

    model_config = _SPEC

    inputs: tuple[Name, ...]
    convert: Callable[[Mapping[str, Any]], str]
    summary: str


class AdapterSpec(BaseModel):
    """A helpdesk adapter.

    ``create`` builds the adapter from the settings of the plugin that registered it (strings,
    from ``Engine(settings={plugin: {…}})`` or the environment, ``SLARULES_<PLUGIN>_<SETTING>``)
    and raises :class:`~slarules.errors.PluginError`
    naming a missing or bad one. ``actions`` are the built-in ticket actions (``notify``, ``tag``,
    ``set``, …) that it carries out for the tickets it feeds.
    """

    model_config = _SPEC

    name: Name
    summary: str
    create: Callable[[Mapping[str, str]], Adapter]
    actions: frozenset[str] = frozenset()
    importer: ImporterSpec | None = None


class ActionSpec(BaseModel):
    """An action that policy files can name.

    ``execute`` runs it once; it raises :class:`~slarules.errors.ActionError` (or anything: the
    engine catches it) when it fails, and should use ``action.key`` so that a retry after a crash
    is not a second effect.
    """

    model_config = _SPEC

    name: Name
    summary: str
    execute: Callable[[Action, ActionContext], None]


class FunctionSpec(BaseModel):
    """A function that conditions can call, such as ``business_days(created_at) > 3``.

    It must be a pure function of its arguments: the engine calls it whenever it evaluates the
    condition, and times conditions exactly only because nothing else can change their value.
    Arguments arrive as Python values: durations as :class:`~datetime.timedelta`, instants as
    aware :class:`~datetime.datetime`, percents as floats (``80%`` is ``80.0``).
    """

    model_config = _SPEC

    name: Name
    summary: str
    parameters: dict[Name, ValueType] = Field(default_factory=dict)
    returns: ValueType
    implementation: Callable[..., Any]


class CalendarSpec(BaseModel):
    """A named business calendar that policies can use (``calendar us_federal``), such as one
    built from a holiday provider."""

    model_config = _SPEC

    name: Name
    summary: str
    calendar: Calendar
