"""Ticket actions through LiveAgent's API v3.

* ``set "status" "solved"`` (and ``group``, ``assignee``, ``subject``, ``custom.CODE``) is
  ``PUT /tickets/{id}`` with the changed field only; ``set "status" "hold"`` and
  ``set "postpone" "2026-03-05T09:00:00Z"`` postpone the ticket (``PUT /tickets/{id}/postpone``);
* ``assign`` and ``escalate`` transfer the ticket to an agent or a department;
* ``tag`` adds tags. LiveAgent's ``tags`` is the whole list of tag ids and a PUT replaces it, so
  this reads the ticket, maps names to ids (creating missing tags) and writes the union;
* ``notify``, ``urge`` and ``warn`` add the ``notify_tag``: API v3 has no call that adds a note,
  so a LiveAgent Rule on that tag writes the note or sends the email.

Every call is idempotent by nature (a value set, a union of tags, a postpone to one instant), so
a retried action is not a second effect even though LiveAgent takes no idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from slarules.actions import Action
from slarules.errors import ActionError
from slarules_liveagent.client import LiveAgentClient
from slarules_liveagent.codes import SETTABLE_STATUSES
from slarules_liveagent.directory import Directory

__all__ = ["ACTIONS", "TicketActions"]

ACTIONS = frozenset({"set", "tag", "assign", "escalate", "notify", "urge", "warn"})
SETTABLE_FIELDS = ("status", "postpone", "group", "assignee", "subject", "custom.CODE")


class TicketActions:
    """Carries out the built-in ticket actions on one LiveAgent account."""

    def __init__(
        self, client: LiveAgentClient, directory: Directory, notify_tag: str, hold_for: timedelta
    ) -> None:
        self._client = client
        self._directory = directory
        self._notify_tag = notify_tag
        self._hold_for = hold_for
        self._handlers: dict[str, Callable[[Action], None]] = {
            "set": self._set,
            "tag": self._tag,
            "assign": self._transfer,
            "escalate": self._transfer,
            "notify": self._notify,
            "urge": self._notify,
            "warn": self._notify,
        }

    def execute(self, action: Action) -> None:
        handler = self._handlers.get(action.name)
        if handler is None:
            raise ActionError(f"LiveAgent cannot `{action.name}`", permanent=True)
        handler(action)

    # -- set -------------------------------------------------------------------------------

    def _set(self, action: Action) -> None:
        if len(action.args) != 2 or None in action.args:
            raise _refused(action, 'takes a field and a value, such as `set "status" "solved"`')
        field, value = str(action.args[0]), str(action.args[1])
        if field == "status":
            self._set_status(action, value)
        elif field == "postpone":
            self._client.postpone(action.ticket, _instant(action, value))
        elif field.startswith("custom.") and len(field) > len("custom."):
            code = field.removeprefix("custom.")
            self._update(action, {"custom_fields": [{"code": code, "value": value}]})
        elif field in ("group", "assignee"):
            self._update(action, self._handler_change(action, value, only=field))
        elif field == "subject":
            self._update(action, {"subject": value})
        elif field == "priority":
            raise _refused(
                action,
                "cannot set `priority`: LiveAgent's API has no priority field; "
                'tag the ticket (`tag "urgent"`) and let a LiveAgent Rule change its priority',
            )
        else:
            raise _refused(
                action,
                f"cannot set `{field}`; it sets {', '.join(SETTABLE_FIELDS)}. Write the field "
                'name in quotes (`set "status" "open"`): a bare name is the field\'s value',
            )

    def _set_status(self, action: Action, status: str) -> None:
        if status == "hold":
            # LiveAgent's hold is a postponement, which always has an end.
            self._client.postpone(action.ticket, action.at + self._hold_for)
            return
        letter = SETTABLE_STATUSES.get(status)
        if letter is None:
            known = ", ".join([*SETTABLE_STATUSES, "hold"])
            raise _refused(action, f"cannot set status `{status}`; LiveAgent takes {known}")
        self._update(action, {"status": letter})

    # -- assign, escalate ------------------------------------------------------------------

    def _transfer(self, action: Action) -> None:
        # Names in the arguments arrive as their values (`assign group "L2"` gives the current
        # group, then "L2"): the last argument is the target.
        targets = [arg for arg in action.args if arg]
        if not targets:
            raise _refused(action, "needs an agent or a department to transfer the ticket to")
        self._update(action, self._handler_change(action, targets[-1]))

    def _handler_change(
        self, action: Action, target: str, only: str | None = None
    ) -> dict[str, str]:
        if only in (None, "assignee"):
            agent = self._directory.agent(target)
            if agent is not None:
                return {"agentid": agent}
        if only in (None, "group"):
            department = self._directory.department(target)
            if department is not None:
                return {"departmentid": department}
        kind = {"assignee": "agent", "group": "department"}.get(only or "", "agent or department")
        raise _refused(action, f"LiveAgent has no {kind} `{target}` (by id, name or email)")

    # -- tags ------------------------------------------------------------------------------

    def _tag(self, action: Action) -> None:
        names = [arg for arg in action.args if arg]
        if not names:
            raise _refused(action, "needs the names of the tags to add")
        self._add_tags(action, names)

    def _notify(self, action: Action) -> None:
        self._add_tags(action, [self._notify_tag])

    def _add_tags(self, action: Action, names: Sequence[str]) -> None:
        ticket = self._client.ticket(action.ticket)
        current = [str(tag) for tag in ticket.get("tags") or []]
        wanted = [self._directory.tag_id(name) for name in names]
        union = current + [tag for tag in dict.fromkeys(wanted) if tag not in current]
        if union != current:  # already tagged: nothing to write, and no Rule fires again
            self._update(action, {"tags": union})

    def _update(self, action: Action, changes: dict[str, Any]) -> None:
        self._client.update_ticket(action.ticket, changes)


def _instant(action: Action, text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        instant = None
    if instant is None or instant.utcoffset() is None:
        raise _refused(
            action, f"`{text}` is not an instant with its offset, such as 2026-03-05T09:00:00Z"
        )
    return instant


def _refused(action: Action, reason: str) -> ActionError:
    return ActionError(f"`{action.name}` on ticket `{action.ticket}` {reason}", permanent=True)
