"""The exceptions slarules raises.

Every error a user can cause derives from :class:`SlaRulesError`, so a host application can catch
them all in one place and still tell them apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from slarules.dsl.diagnostics import Diagnostic

__all__ = [
    "ActionError",
    "AuthenticationError",
    "CalendarError",
    "EventError",
    "PayloadError",
    "PluginError",
    "PolicyError",
    "PolicySyntaxError",
    "PolicyValidationError",
    "SlaRulesError",
]


class SlaRulesError(Exception):
    """Base class of every error raised by slarules for bad input or configuration."""


class CalendarError(SlaRulesError, ValueError):
    """A business calendar cannot be built or cannot answer a query.

    Raised for bad construction input (an unknown time zone, ``25:00``, overlapping spans, an
    unknown weekday), for naive datetimes, and for queries that have no answer, such as adding
    business time on a calendar that is never open. The message names the offending value.
    """


class PolicyError(SlaRulesError):
    """A policy file cannot be used; :attr:`diagnostics` says where and why.

    ``str(error)`` is every diagnostic rendered with its source line, ready to print.
    """

    def __init__(
        self, diagnostics: Iterable[Diagnostic], sources: Mapping[str, str] | None = None
    ) -> None:
        self.diagnostics = tuple(diagnostics)
        self.sources = dict(sources or {})
        super().__init__(self.render())

    def render(self) -> str:
        return "\n\n".join(
            diagnostic.render(self.sources.get(diagnostic.span.file))
            for diagnostic in self.diagnostics
        )


class PolicySyntaxError(PolicyError):
    """The text is not in the language: a typo, a missing brace, an unterminated string."""


class PolicyValidationError(PolicyError):
    """The text parses but does not make sense: unknown names, invalid values, type errors.

    Validation reports every error it finds at once, not only the first.
    """


class EventError(SlaRulesError, ValueError):
    """An event cannot be ingested: a missing or invalid field, a naive timestamp, an unknown type.

    :attr:`problems` lists ``(field, reason)`` pairs, the field a dotted path (``actor.role``);
    :attr:`payload` is the event as received, so that it can be kept and retried.
    """

    def __init__(self, problems: Iterable[tuple[str, str]], payload: object = None) -> None:
        self.problems = tuple(problems)
        self.payload = payload
        event_id = _event_id(payload)
        subject = f"event `{event_id}`" if isinstance(event_id, str) and event_id else "event"
        details = "; ".join(f"`{field}`: {reason}" for field, reason in self.problems)
        super().__init__(f"{subject} rejected: {details}")

    def as_payload_error(
        self, locate: Callable[[str, str], tuple[str, str]] | None = None
    ) -> PayloadError:
        """The same problems as an adapter's :class:`PayloadError`: the event an adapter built
        from a helpdesk's payload is invalid because the payload is. ``locate`` turns an event
        field and its reason into where that value came from in the payload, and why."""
        located = [
            (field, reason) if locate is None else locate(field, reason)
            for field, reason in self.problems
        ]
        (where, reason), *others = located
        if others:
            reason += "; also " + "; ".join(f"`{place}`: {why}" for place, why in others)
        return PayloadError(where, reason)


def failure_text(error: Exception) -> str:
    """What a plugin's exception says, on one line: a pydantic model it built wrong (a spec, an
    adapter's payload model) names its field and value, not pydantic's whole report."""
    if isinstance(error, ValidationError):
        return "; ".join(
            f"`{error.title}.{'.'.join(map(str, detail['loc']))}`: {detail['msg']} "
            f"(got `{detail['input']!r}`)"
            for detail in error.errors(include_url=False)
        )
    return f"{type(error).__name__}: {error}"


def _event_id(payload: object) -> object:
    """The id a rejected payload gives its event, if any: a JSON text is read for it."""
    if isinstance(payload, str | bytes):
        try:
            payload = json.loads(payload)
        except ValueError:  # not JSON, or not UTF-8
            return None
    return payload.get("id") if isinstance(payload, Mapping) else None


class PluginError(SlaRulesError):
    """A plugin cannot be used: it fails to import, registers a name another plugin has, returns
    a bad spec, or lacks a setting. The message names the distribution at fault."""


# Answers that trying again later can fix, besides the server's own trouble (5xx): a timeout,
# "too early", and throttling.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class ActionError(SlaRulesError):
    """An action could not be executed this time.

    ``retry_after`` (seconds) is the delay a helpdesk asked for (``429`` and ``Retry-After``);
    ``permanent`` says that trying again cannot help (a ``404``, a ticket with no adapter), so a
    runner dead-letters it at once instead of retrying.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        self.retry_after = retry_after
        self.permanent = permanent
        super().__init__(message)

    @classmethod
    def for_status(
        cls,
        status: int,
        message: str,
        *,
        retry_after: str | None = None,
        now: datetime | None = None,
        retryable: Collection[int] = RETRYABLE_STATUSES,
    ) -> ActionError:
        """The error for a helpdesk API's failed answer: to retry for ``retryable`` statuses and
        server errors, after the delay of the ``Retry-After`` header (seconds, or an HTTP date
        measured from ``now``: without ``now``, the runner's own backoff); permanent for the
        rest (a ``404``, a ``422``: the same request cannot succeed)."""
        if status in retryable or status >= 500:
            return cls(message, retry_after=_seconds_from(retry_after, now))
        return cls(message, permanent=True)


class PayloadError(SlaRulesError, ValueError):
    """An adapter cannot read what a helpdesk sent: malformed JSON, an unknown event kind, a
    missing id. :attr:`field` is where (a dotted path or JSON pointer into the payload)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"`{field}`: {reason}")


class AuthenticationError(SlaRulesError):
    """A request to an adapter is not from the helpdesk: a missing, wrong or expired signature or
    token. The message says which, never the expected secret."""


def _seconds_from(retry_after: str | None, now: datetime | None) -> float | None:
    value = (retry_after or "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    if now is None:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is in GMT
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)
