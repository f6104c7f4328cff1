"""What slarules itself provides, registered through the same hooks as any third-party plugin.

Ticket actions (``notify``, ``tag``, ``set``, …) act on the helpdesk's ticket, so the built-in
plugin only routes them: to the adapter of the helpdesk that feeds the ticket, which carries them
out through its API. ``log`` writes to the ``slarules.actions`` logger and needs no helpdesk.
"""

from __future__ import annotations

import logging

from slarules.actions import Action
from slarules.calendar import Calendar
from slarules.errors import ActionError
from slarules.hookspecs import hookimpl
from slarules.specs import ActionContext, ActionSpec, CalendarSpec

TICKET_ACTIONS = {
    "notify": "tell a person or team about the ticket (an internal note, a message)",
    "urge": "remind the handler that the ticket waits on them",
    "escalate": "hand the ticket to a higher level or a duty manager",
    "assign": "assign the ticket to an agent or group",
    "set": 'set a ticket field, such as `set "priority" "urgent"`',
    "tag": "add tags to the ticket",
    "warn": "a target's warning threshold was passed (`warn at 80%`)",
}

_logger = logging.getLogger("slarules.actions")


def _through_adapter(action: Action, context: ActionContext) -> None:
    if not action.ticket:
        raise ActionError(
            f"`{action.name}` of schedule `{action.trigger}` acts on a ticket, and a schedule has "
            "none; use an action that needs no ticket (`log`, `webhook`, a plugin's)",
            permanent=True,
        )
    if context.adapter_error is not None:
        raise ActionError(context.adapter_error, permanent=True)
    if context.adapter is None:
        raise ActionError(
            f"`{action.name}` acts on ticket `{action.ticket}` in its helpdesk, but no adapter "
            "feeds that ticket; ingest its events through an adapter, or with `source=`",
            permanent=True,
        )
    if action.name not in context.adapter_actions:
        raise ActionError(
            f"adapter `{context.source}` cannot `{action.name}`; it can "
            + (", ".join(f"`{name}`" for name in sorted(context.adapter_actions)) or "nothing"),
            permanent=True,
        )
    context.adapter.execute(action, context)


def _log(action: Action, context: ActionContext) -> None:
    _logger.info(
        "%s %s for %s (%s) [%s]",
        action.name,
        " ".join(arg for arg in action.args if arg is not None),
        action.ticket,
        action.reason,
        action.key,
    )


@hookimpl
def slarules_actions() -> list[ActionSpec]:
    routed = [
        ActionSpec(name=name, summary=summary, execute=_through_adapter)
        for name, summary in TICKET_ACTIONS.items()
    ]
    return [*routed, ActionSpec(name="log", summary="write to the log", execute=_log)]


@hookimpl
def slarules_calendars() -> list[CalendarSpec]:
    return [
        CalendarSpec(
            name="always",
            summary="open 24 hours a day, 7 days a week, in UTC",
            calendar=Calendar.always(),
        )
    ]
