"""LiveAgent's API v3 over HTTP: the calls the adapter needs, and its errors as ActionErrors.

Authentication is the header ``apikey``. Lists are paged with ``_page`` (from 1) and
``_perPage``; ``_filters`` takes ``[["column", "operator", "value"], ...]`` as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from slarules.errors import ActionError
from slarules_liveagent.account_time import AccountTime

__all__ = ["LiveAgentClient"]

PAGE_SIZE = 100


class LiveAgentClient:
    """The API calls of one LiveAgent account."""

    def __init__(
        self, base_url: str, api_key: str, account_time: AccountTime, timeout: float = 10.0
    ) -> None:
        self.account_time = account_time
        self._http = httpx.Client(base_url=base_url, headers={"apikey": api_key}, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    # -- reading ---------------------------------------------------------------------------

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        return self._json("GET", f"/tickets/{ticket_id}")  # type: ignore[no-any-return]

    def history(self, ticket_id: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/tickets/{ticket_id}/history"))

    def messages(self, ticket_id: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/tickets/{ticket_id}/messages"))

    def ticket_sla(self, ticket_id: str) -> dict[str, Any] | None:
        """The ticket's SLA level and deadlines (``sla_level_name``, ``first_answer``, …), or
        ``None`` for a ticket without a level (404)."""
        return self._json("GET", f"/tickets/{ticket_id}/sla", missing_ok=True)  # type: ignore[no-any-return]

    def agents(self) -> list[dict[str, Any]]:
        return list(self._pages("/agents"))

    def departments(self) -> list[dict[str, Any]]:
        return list(self._pages("/departments"))

    def tags(self) -> list[dict[str, Any]]:
        return list(self._pages("/tags"))

    def slas(self) -> list[dict[str, Any]]:
        return list(self._pages("/slas"))

    def changed_since(self, instant: datetime) -> Iterator[dict[str, Any]]:
        """The tickets changed after ``instant``, oldest change first, page by page."""
        since = self.account_time.format(instant)
        return self._pages(
            "/tickets",
            {
                "_filters": json.dumps([["date_changed", ">", since]]),
                "_sortField": "date_changed",
                "_sortDir": "ASC",
            },
        )

    # -- writing ---------------------------------------------------------------------------

    def update_ticket(self, ticket_id: str, changes: Mapping[str, Any]) -> None:
        """Change only the fields in ``changes`` (LiveAgent leaves the others as they are)."""
        self._json("PUT", f"/tickets/{ticket_id}", json=dict(changes))

    def postpone(self, ticket_id: str, until: datetime) -> None:
        body = {"date_time": self.account_time.format(until)}
        self._json("PUT", f"/tickets/{ticket_id}/postpone", json=body)

    def create_tag(self, name: str) -> dict[str, Any]:
        # Private ("N"): the tags slarules adds are for agents and Rules, not for customers.
        return self._json("POST", "/tags", json={"name": name, "is_public": "N"})  # type: ignore[no-any-return]

    # -- HTTP ------------------------------------------------------------------------------

    def _pages(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[Any]:
        page, previous = 1, None
        while True:
            query = {**(params or {}), "_page": str(page), "_perPage": str(PAGE_SIZE)}
            rows = self._json("GET", path, params=query)
            if not isinstance(rows, list):
                raise ActionError(f"LiveAgent answered GET {path} with something not a list")
            if rows == previous:  # an endpoint that does not page gives the same rows again
                return
            yield from rows
            if len(rows) < PAGE_SIZE:
                return
            page, previous = page + 1, rows

    def _json(self, method: str, path: str, missing_ok: bool = False, **options: Any) -> Any:
        try:
            response = self._http.request(method, path, **options)
        except httpx.HTTPError as error:
            raise ActionError(f"LiveAgent is unreachable ({method} {path}): {error}") from None
        if missing_ok and response.status_code == 404:
            return None
        _raise_for_status(method, path, response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ActionError(f"LiveAgent answered {method} {path} with malformed JSON") from None


def _raise_for_status(method: str, path: str, response: httpx.Response) -> None:
    status = response.status_code
    if status >= 400:
        message = f"LiveAgent answered {method} {path} with {status}: {_reason(response)}"
        raise ActionError.for_status(
            status, message, retry_after=response.headers.get("retry-after")
        )


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) else response.reason_phrase
