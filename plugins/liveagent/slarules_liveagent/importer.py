"""LiveAgent's SLA levels (``GET /slas``) as a policy file.

Each level becomes a calendar of its business hours and a policy that applies when the ticket's
``sla_level`` field is the level's name. LiveAgent gives tickets their level with Rules and per
department, not with a condition the import could translate; the adapter puts the level into
``sla_level`` when it knows it (a Rule's ``sla_level``, or ``GET /tickets/{id}/sla`` during
reconciliation), and the admin can edit the ``applies when`` lines into conditions on
departments instead.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from slarules.errors import CalendarError, PayloadError, PolicyError
from slarules.timezones import get_zone
from slarules_liveagent._shapes import json_list

__all__ = ["slas_to_policies"]

# LiveAgent value -> prelude metric. A value of 0 means the level sets no such target.
METRICS = {
    "first_answer": "first_response",
    "next_answer": "next_response",
    "first_resolve": "resolution",
    "call_answer": "answer",
}
# Values no prelude metric measures; the file says so instead of dropping them silently.
NOT_IMPORTED = {
    "first_assign": "slarules has no built-in metric for the first assignment",
    "chat_answer": "`answer` takes call_answer: one target per metric",
}
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

HEADER = """\
# Imported from LiveAgent's SLA levels (GET /api/v3/slas) by slarules-liveagent.
# LiveAgent assigns SLA levels with Rules and per department: each policy below applies when the
# ticket's `sla_level` field holds the level's name, which the LiveAgent adapter fills in when it
# knows the level. Replace an `applies when` line to choose tickets otherwise, say by department.
"""


def slas_to_policies(exports: Mapping[str, Any]) -> str:
    """The policy file of the ``slas`` export: the JSON list ``GET /slas`` returns."""
    levels = exports["slas"]
    if isinstance(levels, Mapping):  # one level, from GET /slas/{levelId}
        levels = [levels]
    if not isinstance(levels, list):
        raise PayloadError("slas", "expected the list of SLA levels that GET /slas returns")
    blocks = [HEADER]
    calendars: set[str] = set()
    policies: set[str] = set()
    for index, level in enumerate(levels):
        where = f"slas[{index}]"
        if not isinstance(level, Mapping):
            raise PayloadError(where, "expected an SLA level object")
        name = _level_name(level, where, policies)
        calendar = "always"
        hours = level.get("business_hours")
        if hours:
            calendar = _calendar_name(name, index, calendars)
            blocks.append(_calendar(calendar, hours, f"{where}.business_hours"))
        blocks.append(_policy(name, calendar, level.get("values") or {}, f"{where}.values"))
    text = "\n".join(blocks)
    _check(text)
    return text


def _check(text: str) -> None:
    """The file must load: a mistake here is a bug of the import, not of the export."""
    from slarules import parse_policies  # the language, loaded only to check what was written

    try:
        parse_policies(text, source="liveagent-import.sla")
    except PolicyError as error:
        raise PayloadError("slas", f"the imported file does not load:\n{error}") from None


def _level_name(level: Mapping[str, Any], where: str, taken: set[str]) -> str:
    name = level.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PayloadError(f"{where}.name", "required: the level's name")
    if any(character < " " for character in name):
        raise PayloadError(
            f"{where}.name", f"a name on one line, with no control characters: {name!r}"
        )
    if name in taken:
        raise PayloadError(f"{where}.name", f"two levels are named `{name}`")
    taken.add(name)
    return name


def _calendar_name(level: str, index: int, taken: set[str]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", level.lower()).strip("_")
    base = f"{slug}_hours" if slug and not slug[0].isdigit() else f"level_{index + 1}_hours"
    name, suffix = base, 2
    while name in taken:
        name, suffix = f"{base}_{suffix}", suffix + 1
    taken.add(name)
    return name


def _calendar(name: str, hours: object, where: str) -> str:
    if not isinstance(hours, Mapping):
        raise PayloadError(where, "expected business hours with a timezone and days")
    _no_misspelt_keys(hours, (*DAYS, "timezone", "exclude_holidays"), where)
    zone = hours.get("timezone")
    try:
        get_zone(zone)  # type: ignore[arg-type]
    except CalendarError as error:
        raise PayloadError(f"{where}.timezone", str(error)) from None
    spans = {day: _span(hours.get(day), f"{where}.{day}") for day in DAYS}
    lines = [f"    hours {days} {span}" for span, days in _days_by_span(spans)]
    if not lines:
        raise PayloadError(where, "open on no day of the week")
    holidays = [
        f"    holiday {_holiday(text, f'{where}.exclude_holidays[{position}]')}"
        for position, text in enumerate(
            json_list(hours.get("exclude_holidays") or [], f"{where}.exclude_holidays")
        )
    ]
    body = "\n".join([f'    timezone "{zone}"', *lines, *holidays])
    return f"calendar {name} {{\n{body}\n}}\n"


def _span(interval: object, where: str) -> str | None:
    """``09:00-17:00`` for a day's interval, ``None`` for a closed day."""
    if interval in (None, {}):
        return None
    if not isinstance(interval, Mapping):
        raise PayloadError(where, 'expected `{"start": "HH:MM", "end": "HH:MM"}`')
    start = _clock_time(interval.get("start"), f"{where}.start")
    end = _clock_time(interval.get("end"), f"{where}.end")
    end = "24:00" if end == "00:00" else end  # an interval ending at midnight ends the day
    return None if start == end else f"{start}-{end}"


def _clock_time(text: object, where: str) -> str:
    given = text if isinstance(text, str) else ""
    match = re.fullmatch(r"((?:[01]\d|2[0-3]):[0-5]\d|24:00)(?::00)?", given)
    if match is None:
        raise PayloadError(where, f"expected a time of day `HH:MM`, got `{text}`")
    return match[1]


def _days_by_span(spans: Mapping[str, str | None]) -> Iterable[tuple[str, str]]:
    """``("09:00-17:00", "mon-fri")``: days with the same hours on one line, runs as ranges."""
    days_of: dict[str, list[int]] = {}
    for position, day in enumerate(DAYS):
        span = spans[day]
        if span is not None:
            days_of.setdefault(span, []).append(position)
    for span, positions in days_of.items():
        yield span, ", ".join(_runs(positions))


def _runs(positions: list[int]) -> list[str]:
    runs: list[list[int]] = []
    for position in positions:
        if runs and runs[-1][-1] == position - 1:
            runs[-1].append(position)
        else:
            runs.append([position])
    short = [day[:3] for day in DAYS]
    return [short[run[0]] if len(run) == 1 else f"{short[run[0]]}-{short[run[-1]]}" for run in runs]


def _holiday(text: object, where: str) -> str:
    # LiveAgent writes holidays as midnight instants (`2025-12-25T00:00:00`): the date is the day.
    try:
        return date.fromisoformat(str(text)[:10]).isoformat()
    except ValueError:
        raise PayloadError(where, f"expected a date `YYYY-MM-DD`, got `{text}`") from None


def _policy(name: str, calendar: str, values: object, where: str) -> str:
    if not isinstance(values, Mapping):
        raise PayloadError(where, "expected the level's target values in seconds")
    _no_misspelt_keys(values, (*METRICS, *NOT_IMPORTED), where)
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    lines = [f'    applies when sla_level == "{quoted}"', f"    calendar {calendar}"]
    for key, metric in METRICS.items():
        seconds = _seconds(values.get(key), f"{where}.{key}")
        if seconds and metric == "answer":
            lines.append(
                "    # `answer` runs on contact events (offered, answered, abandoned), which the\n"
                "    # LiveAgent adapter does not send: calls come as tickets. Feed them from\n"
                "    # your phone system, or this target never runs."
            )
        if seconds:
            lines.append(f"    {metric} within {_duration(seconds)}")
    for key, reason in NOT_IMPORTED.items():
        seconds = _seconds(values.get(key), f"{where}.{key}")
        if seconds:
            lines.append(f"    # not imported: {key} {_duration(seconds)}: {reason}")
    body = "\n".join(lines)
    return f'policy "{quoted}" {{\n{body}\n}}\n'


def _no_misspelt_keys(given: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    """A key close to one the import reads is a mistake that would silently drop a target or
    close a day; other keys (ones LiveAgent may add) are left alone."""
    known = tuple(known)
    for key in given:
        if key not in known and (close := difflib.get_close_matches(str(key), known, n=1)):
            raise PayloadError(f"{where}.{key}", f"unknown key (did you mean `{close[0]}`?)")


def _seconds(value: object, where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PayloadError(where, f"expected whole seconds (0 for no target), got `{value!r}`")
    return value


def _duration(seconds: int) -> str:
    """``1h30m``: hours, minutes and seconds, as ``slarules fmt`` writes durations."""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (seconds, "s")]
    return "".join(f"{amount}{unit}" for amount, unit in parts if amount)
