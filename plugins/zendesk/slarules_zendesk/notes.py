"""The internal notes slarules writes, and how to recognise them when they come back.

Each note ends with a line holding the action's idempotency key. That line lets a retried
action find the note a lost response had already written, and lets the webhook translation
ignore the engine's own notes even when ``api_user_id`` is not set (no reply loop).
"""

from __future__ import annotations

from slarules.actions import Action

__all__ = ["KEY_PREFIX", "carries_key", "is_engine_note", "note_body"]

KEY_PREFIX = "slarules action key: "

_HEADINGS = {
    "notify": "SLA notice",
    "urge": "SLA reminder: this ticket is waiting on you",
    "escalate": "SLA escalation",
    "warn": "SLA warning",
}


def note_body(action: Action) -> str:
    """The note for ``notify``, ``urge``, ``escalate`` or ``warn``: a heading with the reason,
    the action's arguments (its recipients and message, as the trigger wrote them), the key."""
    heading = _HEADINGS.get(action.name, f"SLA {action.name}")
    lines = [f"{heading}: {action.reason}"]
    lines += [arg for arg in action.args if arg]
    lines += ["", f"{KEY_PREFIX}{action.key}"]
    return "\n".join(lines)


def is_engine_note(body: object) -> bool:
    return isinstance(body, str) and KEY_PREFIX in body


def carries_key(body: object, key: str) -> bool:
    return isinstance(body, str) and f"{KEY_PREFIX}{key}" in body.splitlines()
