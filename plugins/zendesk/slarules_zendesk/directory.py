"""Users and groups of the account, read once and cached.

Audits and exports name comment authors by id only; whether one is an agent decides whether
their comment is an agent's reply, so each author is read once (``GET /users/{id}``). Actions
name groups and agents the way policies do (a name, an email, an id) and Zendesk wants ids.
"""

from __future__ import annotations

from collections.abc import Collection

from slarules.errors import ActionError
from slarules_zendesk.client import ZendeskClient
from slarules_zendesk.codes import USER_ROLES

__all__ = ["Directory"]

# Zendesk's own automations act as user -1.
_SYSTEM_USERS = frozenset({"-1"})


class Directory:
    """Roles of users and ids of groups and agents, fetched on demand and remembered."""

    def __init__(self, client: ZendeskClient, own_users: Collection[str] = ()) -> None:
        self._client = client
        self._roles: dict[str, str] = dict.fromkeys(_SYSTEM_USERS, "system")
        self._own = set(own_users)
        self._groups: dict[str, str] | None = None  # casefolded name or id -> id
        self._agents: dict[str, str | None] = {}  # casefolded email -> id (None: no such agent)

    def role(self, user_id: str | None) -> str:
        """``agent``, ``requester`` or ``system`` for the author of a comment or change."""
        if user_id is None:
            return "system"
        if user_id not in self._roles:
            user = self._client.user(user_id)
            # A user deleted since is most likely a requester: agents are rarely deleted.
            role = user.get("role") if user else "end-user"
            self._roles[user_id] = USER_ROLES.get(str(role), "requester")
        return self._roles[user_id]

    def is_own(self, user_id: str | None) -> bool:
        return user_id is not None and user_id in self._own

    def group_id(self, target: str) -> str | None:
        """The id of the group whose id or name (case-insensitively) is ``target``."""
        if self._groups is None or target.casefold() not in self._groups:
            self._groups = self._load_groups()
        return self._groups.get(target.casefold())

    def agent_id(self, target: str) -> str | None:
        """The id of the agent ``target``: an id as it is, an email looked up."""
        if target.isdigit():
            return target
        if "@" not in target:
            return None
        key = target.casefold()
        if key not in self._agents:
            users = self._client.users_by_email(target)
            agents = [u for u in users if USER_ROLES.get(str(u.get("role"))) == "agent"]
            self._agents[key] = str(agents[0]["id"]) if agents and "id" in agents[0] else None
        return self._agents[key]

    def _load_groups(self) -> dict[str, str]:
        groups: dict[str, str] = {}
        for group in self._client.groups():
            if "id" not in group:
                raise ActionError("Zendesk answered GET /groups with a group without an id")
            group_id = str(group["id"])
            groups[group_id] = group_id
            if isinstance(group.get("name"), str):
                groups.setdefault(group["name"].casefold(), group_id)
        return groups
