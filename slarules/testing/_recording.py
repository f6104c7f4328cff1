"""A plugin that records what the engine does, for tests of plugins and hosts.

Register it with ``Engine(plugins=[recorder])``. It provides the adapter ``recorder``, whose
requests carry normalized events (one, or a list) and whose tickets' actions it records instead
of calling a helpdesk, and it records every notification hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from slarules._builtin import TICKET_ACTIONS
from slarules.actions import Action
from slarules.clocks import Clock
from slarules.engine import Rejected
from slarules.errors import ActionError, AuthenticationError, EventError
from slarules.events import Event
from slarules.hookspecs import hookimpl
from slarules.specs import ActionContext, AdapterSpec, InboundRequest

__all__ = ["Failure", "RecordingPlugin"]


@dataclass(frozen=True)
class Failure:
    action: Action
    error: str
    attempt: int


@dataclass
class RecordingPlugin:
    """``executed`` are the ticket actions the ``recorder`` adapter carried out; the other lists
    are what the notification hooks were told, in order.

    ``token``, when set, must come in the ``X-Token`` header of requests to the adapter;
    ``failing`` names actions that fail (``ActionError``) the first ``failing[name]`` times.
    """

    plugin_name = "recorder"  # its name in the engine (`slarules plugins`, `block=`)

    adapter_name: str = "recorder"
    token: str | None = None
    failing: dict[str, int] = field(default_factory=dict)
    executed: list[Action] = field(default_factory=list)
    delivered: list[Action] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    breaches: list[Clock] = field(default_factory=list)
    warnings: list[tuple[Action, Clock]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    # -- the adapter -------------------------------------------------------------------------

    @hookimpl
    def slarules_adapters(self) -> list[AdapterSpec]:
        return [
            AdapterSpec(
                name=self.adapter_name,
                summary="records ticket actions; requests carry normalized events",
                create=self._create,
                actions=frozenset(TICKET_ACTIONS),
            )
        ]

    def _create(self, settings: Mapping[str, str]) -> RecordingPlugin:
        return self

    def authenticate(self, request: InboundRequest) -> None:
        if self.token is not None and request.header("x-token") != self.token:
            raise AuthenticationError("missing or wrong `X-Token` header")

    def parse(self, request: InboundRequest) -> list[Event]:
        body = request.json()
        items = body if isinstance(body, list) else [body]
        events = []
        for index, item in enumerate(items):
            try:
                events.append(Event.parse(item))
            except EventError as error:
                where = f"[{index}]." if isinstance(body, list) else ""
                raise error.as_payload_error(lambda field, why: (where + field, why)) from None  # noqa: B023 (called at once)
        return events

    def execute(self, action: Action, context: ActionContext) -> None:
        remaining = self.failing.get(action.name, 0)
        if remaining:
            self.failing[action.name] = remaining - 1
            raise ActionError(f"`{action.name}` is failing on purpose", retry_after=1.0)
        self.executed.append(action)

    # -- the notification hooks --------------------------------------------------------------

    @hookimpl
    def slarules_on_breach(self, clock: Clock) -> None:
        self.breaches.append(clock)

    @hookimpl
    def slarules_on_warning(self, action: Action, clock: Clock) -> None:
        self.warnings.append((action, clock))

    @hookimpl
    def slarules_on_action_delivered(self, action: Action) -> None:
        self.delivered.append(action)

    @hookimpl
    def slarules_on_action_failed(self, action: Action, error: str, attempt: int) -> None:
        self.failures.append(Failure(action, error, attempt))

    @hookimpl
    def slarules_on_event_rejected(self, rejected: Rejected) -> None:
        self.rejected.append(rejected)
