"""Durations as the language writes them: ``45s``, ``30m``, ``4h``, ``2d``, ``1h30m``.

A day is 24 hours of the calendar that counts it; in a business calendar ``2d`` is 48 business
hours, not two working days.
"""

from __future__ import annotations

import re
from datetime import timedelta

from slarules.errors import SlaRulesError

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)([dhms])")
_DURATION = re.compile(r"-?(?:\d+[dhms])+")


def parse_duration(text: str) -> timedelta:
    """``"1h30m"`` → ``timedelta(hours=1, minutes=30)``; a leading ``-`` makes it negative.

    Units appear largest first and at most once, so ``30m1h`` and ``1h1h`` are errors.
    """
    compact = text.strip().replace(" ", "")
    if not _DURATION.fullmatch(compact):
        raise SlaRulesError(
            f"invalid duration `{text}`: write it like `45s`, `30m`, `4h`, `2d` or `1h30m`"
        )
    parts = _PART.findall(compact)
    units = [unit for _, unit in parts]
    if units != sorted(set(units), key=list(_UNITS).index):
        raise SlaRulesError(
            f"invalid duration `{text}`: give each unit once, largest first, like `1d2h30m`"
        )
    seconds = sum(int(amount) * _UNITS[unit] for amount, unit in parts)
    try:
        return timedelta(seconds=-seconds if compact.startswith("-") else seconds)
    except OverflowError:
        raise SlaRulesError(
            f"duration `{text}` is too long: the limit is about 2.7 million years"
        ) from None


def format_duration(duration: timedelta) -> str:
    """The text :func:`parse_duration` reads back, in hours, minutes and seconds.

    Days are left out on purpose: in business time ``40h`` reads better than ``1d16h``, which
    looks like one working day. Fractions of a second are dropped.

    >>> format_duration(timedelta(hours=40, minutes=30))
    '40h30m'
    """
    total = int(duration.total_seconds())
    sign, rest = ("-" if total < 0 else ""), abs(total)
    parts = []
    for unit in "hms":
        amount, rest = divmod(rest, _UNITS[unit])
        if amount:
            parts.append(f"{amount}{unit}")
    return sign + ("".join(parts) or "0s")
