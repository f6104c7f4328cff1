"""Zendesk's REST API over HTTP: the calls the adapter needs, and its errors as ActionErrors.

Lists are paged with ``next_page``, an absolute URL; the client follows it only on the API's
own origin, so credentials never travel to another host.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from slarules.errors import RETRYABLE_STATUSES, ActionError
from slarules_zendesk.settings import ZendeskSettings

__all__ = ["IDEMPOTENCY_HEADER", "ZendeskClient"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Besides the usual ones, a lost `safe_update` race (409): the retry re-reads the ticket.
_RETRYABLE = RETRYABLE_STATUSES | {409}
_USER_AGENT = "slarules-zendesk/0.1"


class ZendeskClient:
    """The API calls of one Zendesk account."""

    def __init__(self, settings: ZendeskSettings) -> None:
        self.base_url = settings.api_url
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=settings.auth(),
            headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
            timeout=settings.timeout_seconds,
        )

    def close(self) -> None:
        self._http.close()

    # -- reading ---------------------------------------------------------------------------

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        return _member(
            self._json("GET", f"/tickets/{ticket_id}"), "ticket", f"/tickets/{ticket_id}"
        )

    def user(self, user_id: str) -> dict[str, Any] | None:
        """The user, or ``None`` for one that no longer exists (404)."""
        body = self._json("GET", f"/users/{user_id}", missing_ok=True)
        return None if body is None else _member(body, "user", f"/users/{user_id}")

    def me(self) -> dict[str, Any]:
        return _member(self._json("GET", "/users/me"), "user", "/users/me")

    def users_by_email(self, email: str) -> list[dict[str, Any]]:
        return list(self._pages("/users/search", "users", {"query": f"email:{email}"}))

    def groups(self) -> list[dict[str, Any]]:
        return list(self._pages("/groups", "groups"))

    def comments(self, ticket_id: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/tickets/{ticket_id}/comments", "comments"))

    def audits(self, ticket_id: str) -> list[dict[str, Any]]:
        return list(self._pages(f"/tickets/{ticket_id}/audits", "audits"))

    def ticket_event_pages(self, start_time: int) -> Iterator[dict[str, Any]]:
        """The pages of the incremental ticket events export from ``start_time`` (Unix
        seconds), with comments, until ``end_of_stream``."""
        path = "/incremental/ticket_events.json"
        params: Mapping[str, str] | None = {
            "start_time": str(start_time),
            "include": "comment_events",
        }
        url: str | None = path
        while url is not None:
            page = self._json("GET", url, params=params)
            if not isinstance(page, dict):
                raise ActionError(f"Zendesk answered GET {path} with something not an object")
            yield page
            if page.get("end_of_stream") is True:
                return
            url, params = self._next(page), None

    # -- writing ---------------------------------------------------------------------------

    def update_ticket(
        self, ticket_id: str, changes: Mapping[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """``PUT /tickets/{id}`` with ``{"ticket": changes}``: only those fields change."""
        body = self._json(
            "PUT",
            f"/tickets/{ticket_id}",
            json={"ticket": dict(changes)},
            headers=_idempotency(idempotency_key),
        )
        return body if isinstance(body, dict) else {}

    def add_tags(
        self, ticket_id: str, tags: Sequence[str], idempotency_key: str | None = None
    ) -> None:
        """Add tags (``PUT`` adds, ``POST`` would replace, ``DELETE`` removes)."""
        self._json(
            "PUT",
            f"/tickets/{ticket_id}/tags",
            json={"tags": list(tags)},
            headers=_idempotency(idempotency_key),
        )

    # -- HTTP ------------------------------------------------------------------------------

    def _pages(
        self, path: str, key: str, params: Mapping[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        url: str | None = path
        while url is not None:
            page = self._json("GET", url, params=params)
            rows = page.get(key) if isinstance(page, dict) else None
            if not isinstance(rows, list):
                raise ActionError(f"Zendesk answered GET {path} without a `{key}` list")
            yield from (row for row in rows if isinstance(row, dict))
            url, params = self._next(page), None

    def _next(self, page: Mapping[str, Any]) -> str | None:
        link = page.get("next_page")
        if not isinstance(link, str) or not link:
            return None
        if _origin(link) != _origin(self.base_url):
            raise ActionError(f"Zendesk's `next_page` leaves the API ({link}); not followed")
        return link

    def _json(self, method: str, url: str, missing_ok: bool = False, **options: Any) -> Any:
        where = f"{method} {urlsplit(url).path or url}"
        try:
            response = self._http.request(method, url, **options)
        except httpx.HTTPError as error:
            raise ActionError(f"Zendesk is unreachable ({where}): {error}") from None
        if missing_ok and response.status_code == 404:
            return None
        _raise_for_status(where, response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ActionError(f"Zendesk answered {where} with malformed JSON") from None


def _member(body: Any, key: str, path: str) -> dict[str, Any]:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict):
        raise ActionError(f"Zendesk answered GET {path} without a `{key}` object")
    return value


def _idempotency(key: str | None) -> dict[str, str]:
    # Zendesk honours the header on ticket creation; elsewhere it is a harmless hint in its logs.
    return {IDEMPOTENCY_HEADER: key} if key else {}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _raise_for_status(where: str, response: httpx.Response) -> None:
    status = response.status_code
    if status >= 400:
        message = f"Zendesk answered {where} with {status}: {_reason(response)}"
        retry_after = response.headers.get("retry-after")
        raise ActionError.for_status(status, message, retry_after=retry_after, retryable=_RETRYABLE)


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(body, dict):
        for key in ("description", "error", "message"):
            value = body.get(key)
            if isinstance(value, str):
                return value
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
    return response.reason_phrase
