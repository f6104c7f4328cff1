"""The exceptions slarules raises.

Every error a user can cause derives from :class:`SlaRulesError`, so a host application can catch
them all in one place and still tell them apart.
"""

from __future__ import annotations

__all__ = ["CalendarError", "SlaRulesError"]


class SlaRulesError(Exception):
    """Base class of every error raised by slarules for bad input or configuration."""


class CalendarError(SlaRulesError, ValueError):
    """A business calendar cannot be built or cannot answer a query.

    Raised for bad construction input (an unknown time zone, ``25:00``, overlapping spans, an
    unknown weekday), for naive datetimes, and for queries that have no answer, such as adding
    business time on a calendar that is never open. The message names the offending value.
    """
