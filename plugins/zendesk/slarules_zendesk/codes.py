"""Zendesk's enumerations and the values events carry for them.

Event webhooks send them in upper case (``OPEN``, ``HIGH``), the REST API in lower case; events
carry the lower-case REST value either way, so policies compare with ``status == "open"``.
"""

from __future__ import annotations

from collections.abc import Collection

from slarules.errors import PayloadError

__all__ = [
    "PRIORITIES",
    "SETTABLE_STATUSES",
    "STATUSES",
    "TICKET_TYPES",
    "USER_ROLES",
    "enum_value",
]

STATUSES = ("new", "open", "pending", "hold", "solved", "closed", "deleted", "archived", "scrubbed")
# What `PUT /tickets/{id}` accepts: `closed` only comes from Zendesk's own automations.
SETTABLE_STATUSES = ("new", "open", "pending", "hold", "solved")
PRIORITIES = ("low", "normal", "high", "urgent")
TICKET_TYPES = ("problem", "incident", "question", "task")
# A user's `role` (GET /api/v2/users/{id}) and the role of their comments.
USER_ROLES = {"end-user": "requester", "agent": "agent", "admin": "agent"}


def enum_value(value: object, known: Collection[str], field: str, *, nullable: bool) -> str | None:
    """The lower-case value of a Zendesk enumeration, matched case-insensitively, or
    :class:`PayloadError` naming ``field``. Empty text and ``null`` are no value."""
    if value is None or value == "":
        if nullable:
            return None
        raise PayloadError(field, f"required: one of {', '.join(known)}")
    if isinstance(value, str) and value.strip().lower() in known:
        return value.strip().lower()
    raise PayloadError(field, f"unknown value `{value}`; expected one of {', '.join(known)}")
