"""Events written as briefly as a support lead would say them, for the engine tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slarules.testing import EventBuilder

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# The builder ships in slarules.testing, for plugin authors; the engine tests use it too.
Events = EventBuilder
