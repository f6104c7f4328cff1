"""Ticket actions through Zendesk's REST API.

* ``notify``, ``urge`` and ``warn`` add an internal note (``PUT /tickets/{id}`` with a private
  ``comment``), and the ``notify_tag`` if one is set (``additional_tags``), for a Zendesk trigger
  that emails someone;
* ``escalate`` adds the note too and, given a target, moves the ticket to that group (or
  agent) in the same update;
* ``assign`` moves the ticket to a group (``group_id``, and no assignee) or an agent;
* ``set "status" "pending"`` (and ``priority``, ``type``, ``group``, ``assignee``, ``subject``)
  updates that field only;
* ``tag`` adds tags (``PUT /tickets/{id}/tags``, which adds rather than replaces).

Notes end with the action's key (:mod:`slarules_zendesk.notes`); a retried note first looks
for it among the ticket's comments, so a response lost after Zendesk wrote the note does not
write a second one. Every other call sets a value or adds to a set, so a retry changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slarules.actions import Action
from slarules.errors import ActionError
from slarules.specs import ActionContext
from slarules_zendesk.client import ZendeskClient
from slarules_zendesk.codes import PRIORITIES, SETTABLE_STATUSES, TICKET_TYPES
from slarules_zendesk.directory import Directory
from slarules_zendesk.notes import carries_key, note_body

__all__ = ["ACTIONS", "SETTABLE_FIELDS", "TicketActions"]

ACTIONS = frozenset({"notify", "urge", "escalate", "warn", "assign", "set", "tag"})
SETTABLE_FIELDS = ("status", "priority", "type", "group", "assignee", "subject")
_ENUMS = {"status": SETTABLE_STATUSES, "priority": PRIORITIES, "type": TICKET_TYPES}


class TicketActions:
    """Carries out the built-in ticket actions on one Zendesk account."""

    def __init__(
        self,
        client: ZendeskClient,
        directory: Directory,
        *,
        notify_tag: str | None = None,
        safe_update: bool = False,
    ) -> None:
        self._client = client
        self._directory = directory
        self._notify_tag = notify_tag
        self._safe_update = safe_update
        self._handlers: dict[str, Callable[[Action, ActionContext], None]] = {
            "notify": self._note,
            "urge": self._note,
            "warn": self._note,
            "escalate": self._escalate,
            "assign": self._assign,
            "set": self._set,
            "tag": self._tag,
        }

    def execute(self, action: Action, context: ActionContext) -> None:
        handler = self._handlers.get(action.name)
        if handler is None:
            raise ActionError(f"Zendesk cannot `{action.name}`", permanent=True)
        handler(action, context)

    # -- notes -----------------------------------------------------------------------------

    def _note(self, action: Action, context: ActionContext) -> None:
        changes: dict[str, Any] = {}
        if self._notify_tag and action.name in ("notify", "urge"):
            changes["additional_tags"] = [self._notify_tag]
        self._write_note(action, context, changes)

    def _escalate(self, action: Action, context: ActionContext) -> None:
        target = _target(action)
        changes = self._handler_change(action, target) if target else {}
        self._write_note(action, context, changes)

    def _write_note(self, action: Action, context: ActionContext, changes: dict[str, Any]) -> None:
        if context.attempt > 1 and self._already_noted(action):
            return
        comment = {"body": note_body(action), "public": False}
        # A note, and the notify tag added with it, cannot undo anyone's edit; a handler moved
        # by an escalation can, so only that is a safe update.
        moves = any(name != "additional_tags" for name in changes)
        self._update(action, {**changes, "comment": comment}, safe=moves)

    def _already_noted(self, action: Action) -> bool:
        # An earlier attempt may have written the note and lost the response.
        comments = self._client.comments(action.ticket)
        return any(carries_key(comment.get("body"), action.key) for comment in comments)

    # -- assign, set -----------------------------------------------------------------------

    def _assign(self, action: Action, context: ActionContext) -> None:
        target = _target(action)
        if target is None:
            raise _refused(action, "needs a group or an agent to assign the ticket to")
        self._update(action, self._handler_change(action, target), safe=True)

    def _handler_change(
        self, action: Action, target: str, only: str | None = None
    ) -> dict[str, Any]:
        if only in (None, "group"):
            group = self._directory.group_id(target)
            if group is not None:
                # A new group with the old group's agent would be refused or wrong: clear it.
                return {"group_id": int(group), "assignee_id": None}
        if only in (None, "assignee"):
            agent = self._directory.agent_id(target)
            if agent is not None:
                return {"assignee_id": int(agent)}
        kind = {"assignee": "agent", "group": "group"}.get(only or "", "group or agent")
        raise _refused(action, f"Zendesk has no {kind} `{target}` (by id, name or email)")

    def _set(self, action: Action, context: ActionContext) -> None:
        if len(action.args) != 2 or None in action.args:
            raise _refused(action, 'takes a field and a value, such as `set "priority" "urgent"`')
        field, value = str(action.args[0]), str(action.args[1])
        if field in _ENUMS:
            if value not in _ENUMS[field]:
                known = ", ".join(_ENUMS[field])
                raise _refused(action, f"cannot set {field} `{value}`; Zendesk takes {known}")
            changes: dict[str, Any] = {field: value}
        elif field in ("group", "assignee"):
            changes = self._handler_change(action, value, only=field)
        elif field == "subject":
            changes = {"subject": value}
        else:
            raise _refused(
                action,
                f"cannot set `{field}`; it sets {', '.join(SETTABLE_FIELDS)}. Write the field "
                'name in quotes (`set "status" "open"`): a bare name is the field\'s value',
            )
        self._update(action, changes, safe=True)

    # -- tags ------------------------------------------------------------------------------

    def _tag(self, action: Action, context: ActionContext) -> None:
        names = [arg for arg in action.args if arg]
        if not names:
            raise _refused(action, "needs the names of the tags to add")
        # Zendesk tags are single words; a name with spaces would become several tags.
        bad = [name for name in names if any(char.isspace() or char == "," for char in name)]
        if bad:
            raise _refused(action, f"cannot add tag `{bad[0]}`: Zendesk tags have no spaces")
        self._client.add_tags(action.ticket, list(dict.fromkeys(names)), action.key)

    # -- the update ------------------------------------------------------------------------

    def _update(self, action: Action, changes: dict[str, Any], *, safe: bool) -> None:
        if safe and self._safe_update:
            # A 409 means someone changed the ticket in between; the retry reads it again.
            stamp = self._client.ticket(action.ticket).get("updated_at")
            if isinstance(stamp, str) and stamp:
                changes = {**changes, "safe_update": True, "updated_stamp": stamp}
        self._client.update_ticket(action.ticket, changes, action.key)


def _target(action: Action) -> str | None:
    # Names in the arguments arrive as their values (`assign group "L2"` gives the current
    # group, then "L2"): the last argument is the target.
    targets = [arg for arg in action.args if arg]
    return targets[-1] if targets else None


def _refused(action: Action, reason: str) -> ActionError:
    return ActionError(f"`{action.name}` on ticket `{action.ticket}` {reason}", permanent=True)
