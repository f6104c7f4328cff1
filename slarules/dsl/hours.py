"""Business hours as written in the language: ``mon-fri 09:00-12:00, 13:00-18:00``.

The same lines appear inside ``calendar`` blocks and in the ``--hours`` option of the command
line. They parse into :class:`WeeklyHours` and :class:`DateHours`; :func:`calendar_from_hours`
turns a list of them into a :class:`~slarules.Calendar`, which checks the times and weekdays.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from lark import Token, Transformer
from lark.exceptions import VisitError

from slarules.calendar import Calendar, OnClose
from slarules.dsl.parser import SyntaxProblem, parse
from slarules.errors import CalendarError


@dataclass(frozen=True)
class WeeklyHours:
    """Opening spans for weekdays: ``days`` such as ``("mon-fri",)``, spans ``("09:00-17:00",)``."""

    days: tuple[str, ...]
    spans: tuple[str, ...]


@dataclass(frozen=True)
class DateHours:
    """The spans of one date, replacing its weekly hours; no spans means closed."""

    day: date
    spans: tuple[str, ...]


HoursLine = WeeklyHours | DateHours


def parse_hours(text: str) -> HoursLine:
    """Parse one hours line; errors name the text, the column and what was expected."""
    try:
        tree = parse(text, start="hours_spec")
    except SyntaxProblem as problem:
        raise CalendarError(
            f"invalid hours `{text}` at column {problem.column}: {problem.message}"
        ) from None
    try:
        line: HoursLine = _HoursBuilder().transform(tree)
    except VisitError as error:  # lark wraps what the builder raises
        raise error.orig_exc from None
    return line


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


class _HoursBuilder(Transformer[Token, Any]):
    """Turns an ``hours_spec`` tree into a :data:`HoursLine`, bottom up."""

    def weekly_hours(self, children: list[Any]) -> WeeklyHours:
        days, spans = children
        return WeeklyHours(days, spans)

    def date_hours(self, children: list[Any]) -> DateHours:
        day, spans = children
        return DateHours(day, spans)

    def date_closed(self, children: list[Any]) -> DateHours:
        return DateHours(children[0], ())

    def days(self, children: list[str]) -> tuple[str, ...]:
        return tuple(children)

    def day_range(self, children: list[Token]) -> str:
        return "-".join(children)

    def spans(self, children: list[str]) -> tuple[str, ...]:
        return tuple(children)

    def span(self, children: list[Token]) -> str:
        start, end = children
        return f"{start}-{end}"

    def DATE(self, token: Token) -> date:
        try:
            return date.fromisoformat(token)
        except ValueError:
            raise CalendarError(f"invalid date `{token}`: write it as YYYY-MM-DD") from None
