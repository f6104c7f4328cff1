"""The ``slarules`` command line.

``slarules calendar …`` answers business-time questions (deadlines, time spent, opening hours)
from a calendar given in options, with the same hours syntax as the policy language.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import click

from slarules import __version__
from slarules.calendar import Calendar
from slarules.dsl.hours import HoursLine, calendar_from_hours, parse_hours
from slarules.durations import format_duration, parse_duration
from slarules.errors import CalendarError, SlaRulesError
from slarules.timezones import to_local

__all__ = ["main"]

Command = TypeVar("Command", bound=Callable[..., Any])


class _Instant(click.ParamType[datetime]):
    name = "instant"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            self.fail(
                f"`{value}` is not an ISO 8601 date-time like 2026-12-24T16:00:00+01:00", param, ctx
            )
        if instant.tzinfo is None:
            self.fail(f"`{value}` has no UTC offset; add one such as +01:00 or Z", param, ctx)
        return instant


class _Duration(click.ParamType[timedelta]):
    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(value)
        except SlaRulesError as error:
            self.fail(str(error), param, ctx)


class _Date(click.ParamType[date]):
    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"`{value}` is not a date like 2026-12-25", param, ctx)


class _Hours(click.ParamType[HoursLine]):
    name = "hours"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> HoursLine:
        try:
            return parse_hours(value)
        except CalendarError as error:
            self.fail(str(error), param, ctx)


def _calendar_options(command: Command) -> Command:
    """The options that describe a calendar, turned into one ``calendar`` argument."""

    @click.option("--tz", "timezone", required=True, help="IANA time zone, like Europe/Berlin.")
    @click.option(
        "--hours",
        "hours",
        type=_Hours(),
        multiple=True,
        required=True,
        help='Opening hours, repeatable: "mon-fri 09:00-12:00, 13:00-17:00", "2026-12-24 closed".',
    )
    @click.option(
        "--holiday", "holidays", type=_Date(), multiple=True, help="A closed date, repeatable."
    )
    @click.option(
        "--on-close",
        type=click.Choice(["next_open", "close"]),
        default="next_open",
        show_default=True,
        help="A budget that runs out at closing is due at the next opening, or at the closing.",
    )
    @functools.wraps(command)
    def with_calendar(
        timezone: str,
        hours: tuple[HoursLine, ...],
        holidays: tuple[date, ...],
        on_close: Any,
        **kwargs: Any,
    ) -> Any:
        try:
            calendar = calendar_from_hours(timezone, hours, holidays, on_close)
        except CalendarError as error:
            raise click.UsageError(str(error)) from None
        try:
            return command(calendar=calendar, **kwargs)
        except CalendarError as error:
            raise click.ClickException(str(error)) from None

    return with_calendar  # type: ignore[return-value]


def _show(instant: datetime, calendar: Calendar, utc: bool) -> None:
    click.echo(to_local(instant, "UTC" if utc else calendar.timezone).isoformat())


_utc_option = click.option(
    "--utc", is_flag=True, help="Print the instant in UTC, not the calendar's zone."
)


@click.group()
@click.version_option(__version__, prog_name="slarules")
def main() -> None:
    """slarules: SLA clocks in business time."""


@main.group()
def calendar() -> None:
    """Business-time questions about one calendar."""


@calendar.command()
@_calendar_options
@click.option("--start", type=_Instant(), required=True, help="Aware ISO 8601 instant.")
@click.option(
    "--duration",
    type=_Duration(),
    required=True,
    help="Business time, like 4h or 1h30m; may be negative.",
)
@_utc_option
def add(calendar: Calendar, start: datetime, duration: timedelta, utc: bool) -> None:
    """Print the deadline: START plus DURATION of business time."""
    _show(calendar.add(start, duration), calendar, utc)


@calendar.command()
@_calendar_options
@click.option("--start", type=_Instant(), required=True, help="Aware ISO 8601 instant.")
@click.option("--end", type=_Instant(), required=True, help="Aware ISO 8601 instant.")
def between(calendar: Calendar, start: datetime, end: datetime) -> None:
    """Print the business time from START to END (negative when END is earlier)."""
    click.echo(format_duration(calendar.between(start, end)))


@calendar.command(name="is-open")
@_calendar_options
@click.option("--at", "instant", type=_Instant(), required=True, help="Aware ISO 8601 instant.")
def is_open(calendar: Calendar, instant: datetime) -> None:
    """Print `open` or `closed` for the instant AT."""
    click.echo("open" if calendar.is_open(instant) else "closed")


@calendar.command(name="next-open")
@_calendar_options
@click.option("--at", "instant", type=_Instant(), required=True, help="Aware ISO 8601 instant.")
@_utc_option
def next_open(calendar: Calendar, instant: datetime, utc: bool) -> None:
    """Print AT itself when open, else the next opening."""
    _show(calendar.next_open(instant), calendar, utc)
