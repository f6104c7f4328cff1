"""Business hours as written in the language: ``mon-fri 09:00-12:00, 13:00-18:00``.

The same lines appear inside ``calendar`` blocks and in the ``--hours`` option of the command
line. They parse into :class:`~slarules.dsl.ast.WeeklyHours` and
:class:`~slarules.dsl.ast.DateHours`; :func:`calendar_from_hours` turns a list of them into a
:class:`~slarules.Calendar`, which checks the times and weekdays.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from slarules.calendar import Calendar, OnClose
from slarules.dsl.ast import DateHours, WeeklyHours
from slarules.dsl.parser import parse_hours_spec
from slarules.errors import CalendarError, PolicySyntaxError

__all__ = ["HoursLine", "calendar_from_hours", "parse_hours"]

HoursLine = WeeklyHours | DateHours


def parse_hours(text: str) -> HoursLine:
    """Parse one hours line; errors name the text, the column and what was expected."""
    try:
        return parse_hours_spec(text)
    except PolicySyntaxError as error:
        problem = error.diagnostics[0]
        hint = f" ({problem.help})" if problem.help else ""
        raise CalendarError(
            f"invalid hours `{text}` at column {problem.span.column}: {problem.message}{hint}"
        ) from None


def calendar_from_hours(
    timezone: str,
    lines: Iterable[HoursLine],
    holidays: Iterable[date] = (),
    on_close: OnClose = "next_open",
) -> Calendar:
    """A calendar from hours lines; a weekday or date given on two lines is an error."""
    weekly: dict[str, tuple[str, ...]] = {}
    overrides: dict[date, tuple[str, ...]] = {}
    for line in lines:
        if isinstance(line, DateHours):
            if line.day in overrides:
                raise CalendarError(f"date `{line.day}` is given hours twice")
            overrides[line.day] = line.spans
            continue
        for key in line.days:
            if key in weekly:
                raise CalendarError(f"weekday `{key}` is given twice in weekly hours")
            weekly[key] = line.spans
    return Calendar(timezone, weekly, holidays=holidays, overrides=overrides, on_close=on_close)
