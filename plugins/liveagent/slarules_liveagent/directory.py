"""Agents, departments and tags of the account, fetched once and again only when a name is new.

LiveAgent's tickets and messages carry ids, policies name people, teams and tags: the directory
translates between the two. A list is fetched again when an id or name it does not hold turns
up (an agent hired since, a tag created in the UI); what is still unknown after that is
remembered, so a contact's id does not cost a request per message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from slarules.errors import ActionError
from slarules_liveagent.client import LiveAgentClient

__all__ = ["Directory"]

Rows = list[dict[str, Any]]


class _Listing:
    """One list of the account (``GET /agents``, ``/departments``, ``/tags``): rows found by
    their id, or case-insensitively by a name column."""

    def __init__(self, fetch: Callable[[], Rows], id_column: str, keys: tuple[str, ...]) -> None:
        self._fetch = fetch
        self._id_column = id_column
        self._keys = keys
        self._names: dict[str, str] | None = None  # id -> name ("" when it has none)
        self._by_key: dict[str, str] = {}  # casefolded name or email -> id
        self._absent: set[str] = set()

    def find(self, key: str, *, fresh: bool = False) -> str | None:
        """The id of the row whose id is ``key``, else whose name (or email) is ``key``.

        A key not found is fetched for once, then remembered as absent; ``fresh`` fetches for
        it again all the same (before creating what is absent, say)."""
        just_fetched = self._names is None
        found = self._search(key)
        if found is None and not just_fetched and (fresh or key not in self._absent):
            self.refresh()
            found = self._search(key)
        if found is None:
            self._absent.add(key)
        return found

    def existing(self, ids: Iterable[str]) -> set[str]:
        """Which of these ids the account has, fetching the list at most once for them."""
        wanted = set(ids)
        just_fetched = self._names is None
        if wanted - self._loaded().keys() - self._absent and not just_fetched:
            self.refresh()
        names = self._loaded()
        self._absent |= wanted - names.keys()
        return wanted & names.keys()

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        found = self.existing(ids)
        names = self._loaded()
        return {row_id: names[row_id] for row_id in found if names[row_id]}

    def add(self, row: Mapping[str, Any]) -> None:
        self._loaded()
        self._index(row)
        self._absent.discard(str(row.get("name")))

    def refresh(self) -> None:
        self._names, self._by_key = {}, {}
        for row in self._fetch():
            self._index(row)

    def _search(self, key: str) -> str | None:
        if key in self._loaded():
            return key
        return self._by_key.get(key.casefold())

    def _loaded(self) -> dict[str, str]:
        if self._names is None:
            self.refresh()
        assert self._names is not None  # refresh() set it
        return self._names

    def _index(self, row: Mapping[str, Any]) -> None:
        row_id = row.get(self._id_column)
        if row_id in (None, "") or self._names is None:
            return
        name = row.get("name")
        self._names[str(row_id)] = name if isinstance(name, str) else ""
        for key in self._keys:
            if isinstance(row.get(key), str) and row[key]:
                self._by_key.setdefault(row[key].casefold(), str(row_id))


class Directory:
    """The account's agents, departments and tags, as the adapter needs them."""

    def __init__(self, client: LiveAgentClient) -> None:
        self._client = client
        self._agents = _Listing(client.agents, "id", ("email", "name"))
        self._departments = _Listing(client.departments, "department_id", ("name",))
        self._tags = _Listing(client.tags, "id", ("name",))

    def agents_among(self, user_ids: Iterable[str | None]) -> set[str]:
        """Which of these user ids are agents (the others are contacts)."""
        return self._agents.existing(user_id for user_id in user_ids if user_id is not None)

    def agent(self, key: str) -> str | None:
        """The id of the agent with this id, email or name."""
        return self._agents.find(key)

    def department(self, key: str) -> str | None:
        """The id of the department with this id or name."""
        return self._departments.find(key)

    def tag_names(self, tag_ids: Iterable[str]) -> dict[str, str]:
        """Tag id -> name, for the ids the account knows."""
        return self._tags.names(tag_ids)

    def tag_id(self, name: str) -> str:
        """The id of the tag ``name``, created when the account has none by that name."""
        found = self._tags.find(name, fresh=True)
        if found is not None:
            return found
        created = self._client.create_tag(name)
        if not isinstance(created, Mapping) or created.get("id") in (None, ""):
            raise ActionError(f"LiveAgent created the tag `{name}` but returned no id")
        self._tags.add(created)
        return str(created["id"])
