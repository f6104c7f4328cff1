"""LiveAgent's dates: ``YYYY-MM-DD HH:MM:SS`` in the account's time zone, without an offset.

The API reads and writes wall-clock time of the account (Configuration > System > Time zone), so
every date is converted with that zone to an aware UTC instant on the way in, and back on the way
out (the postpone call).
"""

from __future__ import annotations

from datetime import datetime

from slarules.errors import PayloadError
from slarules.timezones import get_zone, local_to_utc

__all__ = ["AccountTime"]

_FORMAT = "%Y-%m-%d %H:%M:%S"


class AccountTime:
    """Conversions between LiveAgent's local date strings and aware UTC instants."""

    def __init__(self, timezone: str = "UTC") -> None:
        self.timezone = timezone
        self._zone = get_zone(timezone)

    def parse(self, text: object, field: str) -> datetime:
        """The UTC instant of a LiveAgent date, or :class:`PayloadError` naming ``field``."""
        if not isinstance(text, str):
            raise PayloadError(field, f"expected a date `YYYY-MM-DD HH:MM:SS`, got `{text!r}`")
        try:
            local = datetime.strptime(text, _FORMAT)
        except ValueError:
            raise PayloadError(field, f"`{text}` is not a date `YYYY-MM-DD HH:MM:SS`") from None
        # The API gives no offset: a time the clocks skip or repeat is read as the engine reads
        # every wall-clock time, the first valid instant after a gap, the first of a repeat.
        return local_to_utc(local, self.timezone)

    def format(self, instant: datetime) -> str:
        """An aware instant as the account's wall-clock time, as LiveAgent's API reads it."""
        return instant.astimezone(self._zone).strftime(_FORMAT)
