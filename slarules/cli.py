"""The ``slarules`` command line.

* ``slarules calendar …`` answers business-time questions (deadlines, time spent, opening hours)
  for a calendar given in options, in the hours syntax of the policy language, or read from a
  policy file;
* ``slarules check`` reports the diagnostics of policy files, ``slarules fmt`` tidies them;
* ``slarules simulate`` replays events through a policy file, ``slarules demo`` a generated day
  through the bundled example;
* ``slarules plugins`` lists what is installed, ``slarules import ADAPTER`` turns a helpdesk's
  SLA settings into a policy file, ``slarules new-plugin`` scaffolds an adapter.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import functools
import io
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, TypeVar
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.progress import Progress

from slarules import __version__
from slarules._jsonlines import BadLine, json_object, lines
from slarules._render import (
    actions_table,
    calls_text,
    clocks_table,
    deadletters_table,
    local,
    plugins_table,
    report_tables,
)
from slarules._scaffold import scaffold
from slarules._suggest import did_you_mean
from slarules.actions import Action
from slarules.calendar import Calendar
from slarules.demo import generate_day, run_demo, sample_tickets
from slarules.dsl.formatter import format_source
from slarules.dsl.hours import HoursLine, calendar_from_hours, parse_hours
from slarules.dsl.loader import load_policies
from slarules.durations import format_duration, parse_duration
from slarules.engine import Engine
from slarules.errors import CalendarError, EventError, PluginError, PolicyError, SlaRulesError
from slarules.events import Event
from slarules.examples import example_policy_path
from slarules.metrics import Period
from slarules.plugins import Plugins
from slarules.replays import Replay
from slarules.report import Report, ReportOptions, report_html
from slarules.runtime import Runtime
from slarules.server import create_app
from slarules.store import OutboxEntry, Store, StoreError, open_store
from slarules.timezones import get_zone, to_local

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

    @click.option(
        "--calendar",
        "calendar_ref",
        metavar="FILE.sla:NAME",
        help="A calendar defined in a policy file, instead of --tz and --hours.",
    )
    @click.option("--tz", "timezone", help="IANA time zone, like Europe/Berlin.")
    @click.option(
        "--hours",
        "hours",
        type=_Hours(),
        multiple=True,
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
        calendar_ref: str | None,
        timezone: str | None,
        hours: tuple[HoursLine, ...],
        holidays: tuple[date, ...],
        on_close: Any,
        **kwargs: Any,
    ) -> Any:
        if calendar_ref is not None:
            if timezone or hours or holidays:
                raise click.UsageError("give either --calendar or --tz and --hours, not both")
            calendar = _calendar_from_file(calendar_ref)
        elif timezone is None or not hours:
            raise click.UsageError(
                "give --tz and at least one --hours, or --calendar FILE.sla:NAME"
            )
        else:
            try:
                calendar = calendar_from_hours(timezone, hours, holidays, on_close)
            except CalendarError as error:
                raise click.UsageError(str(error)) from None
        try:
            return command(calendar=calendar, **kwargs)
        except CalendarError as error:
            raise click.ClickException(str(error)) from None

    return with_calendar  # type: ignore[return-value]


def _calendar_from_file(reference: str) -> Calendar:
    path, _, name = reference.rpartition(":")
    if not path or not name:
        raise click.UsageError(f"--calendar `{reference}`: write it as FILE.sla:NAME")
    try:
        policies = load_policies(path)
    except PolicyError as error:
        raise click.UsageError(f"--calendar `{reference}`: the file has errors\n{error}") from None
    if name not in policies.calendars:
        hint = did_you_mean(name, policies.calendars)
        known = ", ".join(f"`{known}`" for known in policies.calendars)
        raise click.UsageError(f"`{path}` has no calendar `{name}`{hint}; it has {known}")
    return policies.calendars[name]


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


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object per file with its diagnostics, for editors and CI.",
)
def check(files: tuple[str, ...], output_format: str) -> None:
    """Check policy files; exit 1 when any has an error (warnings alone pass)."""
    reports = [_check_file(path) for path in files]
    if output_format == "json":
        click.echo(json.dumps(reports, indent=2))
    else:
        for report in reports:
            for rendered in report["rendered"]:
                click.echo(rendered + "\n", err=True)
            errors = sum(d["severity"] == "error" for d in report["diagnostics"])
            warnings = len(report["diagnostics"]) - errors
            verdict = "ok" if not errors else f"{errors} error(s)"
            suffix = f", {warnings} warning(s)" if warnings else ""
            click.echo(f"{report['file']}: {verdict}{suffix}")
    if any(not report["ok"] for report in reports):
        sys.exit(1)


def _check_file(path: str) -> dict[str, Any]:
    sources: Mapping[str, str]
    try:
        policies = load_policies(path)
    except PolicyError as error:
        diagnostics, sources = error.diagnostics, error.sources
    else:
        diagnostics, sources = policies.warnings, policies.sources
    return {
        "file": path,
        "ok": not any(d.severity == "error" for d in diagnostics),
        "diagnostics": [d.to_dict() for d in diagnostics],
        "rendered": [d.render(sources.get(d.span.file)) for d in diagnostics],
    }


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file is not formatted.")
@click.option("--diff", "show_diff", is_flag=True, help="Change nothing; print what would change.")
def fmt(files: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Rewrite policy files in the canonical style, keeping comments."""
    unformatted = failed = 0
    for path in files:
        original = Path(path).read_text(encoding="utf-8")
        try:
            formatted = format_source(original, path)
        except PolicyError as error:
            click.echo(f"{error}\n", err=True)
            failed += 1
            continue
        if formatted == original:
            continue
        unformatted += 1
        if show_diff:
            click.echo("".join(_diff(original, formatted, path)), nl=False)
        if check or show_diff:
            click.echo(f"would reformat {path}", err=True)
        else:
            Path(path).write_text(formatted, encoding="utf-8")
            click.echo(f"reformatted {path}", err=True)
    if failed or (check and unformatted):
        sys.exit(1)


def _diff(original: str, formatted: str, path: str) -> list[str]:
    return list(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            formatted.splitlines(keepends=True),
            fromfile=f"{path} (original)",
            tofile=f"{path} (formatted)",
        )
    )


# -- running events through the engine --------------------------------------------------------


def _console() -> Console:
    # Piped output (files, CI logs) gets a width that keeps a clock on one line.
    console = Console()
    return console if console.is_terminal else Console(width=160)


@main.command()
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the generated day.")
@click.option(
    "--date",
    "day",
    type=_Date(),
    default="2026-03-04",
    show_default=True,
    help="The day to generate (Europe/Berlin).",
)
@click.option(
    "--db",
    help="Keep the day in this store (sqlite:///path.db) [default: a temporary SQLite file].",
)
@click.option(
    "--events",
    "events_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the day's events to this file, as JSON lines in the order they arrived: "
    "a file to try `slarules simulate` and `slarules report` on.",
)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def demo(seed: int, day: date, db: str | None, events_file: str | None, output_format: str) -> None:
    """Run a generated day of a support centre through the bundled example policy file, kept
    durably in SQLite as `slarules serve` keeps it."""
    if events_file is not None:
        lines = (json.dumps(event) + "\n" for event in generate_day(seed, day).events)
        Path(events_file).write_text("".join(lines), encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="slarules-demo-") as folder:
        store = db or f"sqlite:///{Path(folder) / 'slarules.db'}"
        try:
            run = run_demo(seed, day, store)
        except StoreError as error:
            raise click.ClickException(str(error)) from None
    if output_format == "json":
        click.echo(json.dumps(run.as_dict(), indent=2))
        return
    zone = ZoneInfo("Europe/Berlin")
    console = _console()
    console.print(
        f"[bold]slarules demo[/bold]: {day.isoformat()}, seed {seed}: {run.events} events "
        f"({run.late} delivered late), policy file {example_policy_path().name}"
    )
    sample = sample_tickets(run.clocks, count=15)
    shown = sorted(
        (clock for clock in run.clocks if clock.ticket in sample),
        key=lambda clock: sample.index(clock.ticket),
    )
    tickets = len({clock.ticket for clock in run.clocks})
    at = local(run.report.options.at, zone)
    title = f"Clocks at {at} ({len(sample)} of {tickets} tickets and calls, the most urgent first)"
    console.print(clocks_table(shown, zone, title=title))
    title = f"Actions fired ({len(run.actions)})"
    console.print(actions_table(run.actions, zone, limit=20, title=title))
    console.print(report_tables(run.report)[0])
    console.print(calls_text(run.calls))
    kept = f"kept in {run.store}" if db else "kept in a temporary SQLite file"
    restart = "gives the same clocks" if run.restart_equal else "gives DIFFERENT clocks"
    console.print(
        f"Store: {run.events} events {kept}, {run.outbox} actions in its outbox for "
        f"delivery; reopening it, as after a restart, {restart}."
    )


@main.command()
@click.argument("policy", type=click.Path(dir_okay=False, exists=True))
@click.argument("events", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--at",
    "until",
    type=_Instant(),
    help="Advance the engine to this instant (default: the latest event).",
)
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def simulate(policy: str, events: str, until: datetime | None, output_format: str) -> None:
    """Replay EVENTS (JSON lines) through POLICY; print every clock and the actions fired."""
    try:
        engine = Engine.from_file(policy)
    except PolicyError as error:
        click.echo(str(error), err=True)
        raise SystemExit(1) from None
    actions: list[Action] = []
    instants: list[datetime] = []

    def take(payload: dict[str, Any]) -> None:
        actions.extend(engine.ingest(payload))  # a bad event also lands in engine.rejected
        instants.append(Event.parse(payload).at)

    bad_lines = _replay_file(Path(events), take)
    end = until or max(instants, default=None)
    if end is None:
        raise click.ClickException(f"{events}: no valid events")
    actions += engine.advance(end)
    # As of --at: what the events after it made happen has not happened yet.
    later = sum(1 for instant in instants if instant > end)
    actions = sorted(
        (action for action in actions if action.at <= end),
        key=lambda action: (action.at, action.key),
    )
    clocks = [clock for ticket in engine.tickets() for clock in engine.clocks(ticket, end)]
    if output_format == "json":
        payload = {
            "at": end.isoformat(),
            "clocks": [clock.model_dump(mode="json") for clock in clocks],
            "actions": [action.model_dump(mode="json") for action in actions],
            "rejected": [item.model_dump(mode="json") for item in engine.rejected],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    zone = ZoneInfo("UTC")
    console = _console()
    stats = engine.stats
    after = f", {later} after {end.isoformat()} not counted" if later else ""
    console.print(
        f"{stats.events} events, {stats.duplicates} repeated ids ignored, "
        f"{bad_lines} bad lines skipped, {stats.replays} late (history replayed){after}"
    )
    console.print(clocks_table(clocks, zone, title=f"Clocks at {end.isoformat()}"))
    console.print(actions_table(actions, zone, title="Actions, at the instant they fire"))


def _usable_cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)  # Linux: the cores this process may use
    return len(affinity(0)) if affinity else os.cpu_count() or 1


@main.command()
@click.argument("policy", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--events",
    type=click.Path(dir_okay=False, exists=True),
    help="Replay these events (JSON lines) through POLICY.",
)
@click.option("--db", help="Or read what a service keeps: sqlite:///path/to/slarules.db.")
@click.option("--from", "started_from", type=_Instant(), help="Clocks started at or after this.")
@click.option("--to", "started_to", type=_Instant(), help="Clocks started before this.")
@click.option(
    "--at",
    "at",
    type=_Instant(),
    help="Measure the clocks at this instant [default: --to, else the last event, or now for "
    "--db].",
)
@click.option(
    "--by",
    default="metric",
    show_default=True,
    help="Group by these, comma-separated: policy, metric, node, period, or ticket fields "
    "(priority, group, channel, custom.region…).",
)
@click.option(
    "--period",
    type=click.Choice(["hour", "day", "week", "month"]),
    default="day",
    show_default=True,
)
@click.option("--tz", "timezone", default="UTC", show_default=True, help="Time zone of periods.")
@click.option("--threshold", type=_Duration(), default="20s", show_default=True,
              help="Service level threshold of the contacts.")  # fmt: skip
@click.option("--short-abandon", type=_Duration(), default="5s", show_default=True,
              help="Leave out contacts abandoned in under this; 0s keeps them all.")  # fmt: skip
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json", "html"]),
    default="table",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=_usable_cores,
    show_default="the usable cores",
    help="Read the events and count the tickets in this many processes.",
)
def report(
    policy: str,
    events: str | None,
    db: str | None,
    started_from: datetime | None,
    started_to: datetime | None,
    at: datetime | None,
    by: str,
    period: Period,
    timezone: str,
    threshold: timedelta,
    short_abandon: timedelta,
    output_format: str,
    output: str | None,
    jobs: int,
) -> None:
    """Compliance, breaches, service level, ASA and abandonment of POLICY's clocks, replayed
    from --events or read from --db."""
    if (events is None) == (db is None):
        raise click.UsageError("give one of --events FILE and --db URL")
    try:
        get_zone(timezone)
    except CalendarError as error:
        raise click.BadParameter(str(error), param_hint="--tz") from None
    replayed = _report_replay(policy, events, db, jobs)
    # The command line is the edge: only here may "now" come from the wall clock.
    at = at or started_to or (replayed.latest if events else None) or datetime.now(UTC)
    options = ReportOptions(
        at=at,
        by=tuple(key.strip() for key in by.split(",") if key.strip()),
        period=period,
        timezone=timezone,
        started_from=started_from,
        started_to=started_to,
        threshold=threshold,
        short_abandon=short_abandon or None,
    )
    errors = Console(stderr=True)
    if errors.is_terminal:  # the replay's bar is gone: say what the wait is for
        errors.print(f"measuring {len(replayed.tickets()):,} tickets…", style="dim")
    built = replayed.report(options, jobs=jobs)
    if output_format == "table":
        with contextlib.ExitStack() as stack:
            file = stack.enter_context(open(output, "w", encoding="utf-8")) if output else None
            console = Console(file=file) if file else _console()
            for table in report_tables(built):
                console.print(table)
        return
    write: Callable[[TextIO], object] = {
        "json": built.write_json,
        "csv": lambda out: out.write(_csv(built)),
        "html": lambda out: out.write(report_html(built, title=f"SLA report: {Path(policy).name}")),
    }[output_format]
    if output:
        with open(output, "w", encoding="utf-8") as file:
            write(file)
        click.echo(f"wrote {output}", err=True)
    else:
        write(sys.stdout)


def _report_replay(policy: str, events: str | None, db: str | None, jobs: int) -> Replay:
    """The events of --events or --db, gathered by ticket: each ticket is replayed when the
    report measures it, and let go."""
    try:
        replayed = Replay.from_file(policy, _plugins())
    except PolicyError as error:
        click.echo(str(error), err=True)
        raise SystemExit(1) from None
    if db is not None:

        def problem_stored(number: int, what: str) -> None:
            click.echo(f"{db}: event {number}: {what}", err=True)

        with _stored(db) as store, _replay_bar(f"replaying {Path(db).name}") as bar:
            replayed.add_store(store, jobs=jobs, on_problem=problem_stored, on_progress=bar)
        return replayed
    assert events is not None
    path = Path(events)

    def problem(number: int, what: str) -> None:
        click.echo(f"{path}:{number}: {what}", err=True)

    with _replay_bar(f"replaying {path.name}") as bar:
        bytes_read = _summed(bar, path.stat().st_size) if bar else None
        replayed.add_file(path, jobs=jobs, on_problem=problem, on_progress=bytes_read)
    return replayed


def _summed(show: Callable[[int, int], None], total: int) -> Callable[[int], None]:
    """Told of each part done, ``show`` the sum so far of ``total``."""
    done = 0

    def part_done(part: int) -> None:
        nonlocal done
        done += part
        show(done, total)

    return part_done


@contextlib.contextmanager
def _replay_bar(description: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on the terminal's standard error, told how much is done of how much; or
    None where that is a pipe or a file, which get no bar, not even its newline."""
    errors = Console(stderr=True)
    if not errors.is_terminal:
        yield None
        return
    # Drawn when the replay tells, by no thread of its own: the readers are forked processes.
    with Progress(console=errors, transient=True, auto_refresh=False) as bar:
        task = bar.add_task(description, total=None)

        def show(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, refresh=True)

        yield show


def _csv(built: Report) -> str:
    """The grouped rows, one line each: what a spreadsheet wants."""
    rows = [row.as_dict() for row in built.rows]
    columns = [*built.options.by, "met", "breached", "running", "cancelled", "compliance",
               "p50", "p90", "p99"]  # fmt: skip
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _replay_file(path: Path, take: Callable[[dict[str, Any]], object]) -> int:
    """Give every line's JSON object to ``take``, in file order; a bad line is reported with its
    number and skipped. Returns how many were."""
    bad = 0
    for number, line in enumerate(lines(path), start=1):
        if not line.strip():
            continue
        try:
            take(json_object(line))
        except (BadLine, EventError) as problem:
            click.echo(f"{path}:{number}: {problem}", err=True)
            bad += 1
    return bad


# -- plugins -----------------------------------------------------------------------------------


def _plugins() -> Plugins:
    try:
        return Plugins()
    except PluginError as error:
        raise click.ClickException(str(error)) from None


@main.command(name="plugins")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
def plugins_command(output_format: str) -> None:
    """List the installed plugins: distributions, versions, and what each one adds."""
    infos = _plugins().describe()
    if output_format == "json":
        click.echo(json.dumps([info.model_dump() for info in infos], indent=2))
        return
    _console().print(plugins_table(infos))


class _Importers(click.Group):
    """One subcommand per installed adapter with an importer, its options the files it reads."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, spec in _plugins().adapters.items() if spec.importer)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        spec = _plugins().adapters.get(name)
        if spec is None or spec.importer is None:
            return None
        importer = spec.importer

        def run(output: str | None, **files: str) -> None:
            exports = {name: _read_json(path) for name, path in files.items()}
            try:
                text = importer.convert(exports)
            except SlaRulesError as error:
                raise click.ClickException(str(error)) from None
            if output is None:
                click.echo(text, nl=False)
            else:
                Path(output).write_text(text, encoding="utf-8")
                click.echo(f"wrote {output}", err=True)

        options: list[click.Parameter] = [
            click.Option(
                [f"--{name.replace('_', '-')}", name],
                type=click.Path(exists=True, dir_okay=False),
                required=True,
                help=f"The `{name}` export (JSON).",
            )
            for name in importer.inputs
        ]
        options.append(
            click.Option(["-o", "--output"], type=click.Path(dir_okay=False), help="Write here.")
        )
        return click.Command(name, callback=run, params=options, help=importer.summary)


@main.group(name="import", cls=_Importers)
def import_command() -> None:
    """Turn a helpdesk's exported SLA settings into a policy file (`slarules import ADAPTER`)."""


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"cannot read `{path}`: {error}") from None


@main.command(name="new-plugin")
@click.argument("name")
@click.option(
    "--directory",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Where to create the distribution's folder.",
)
def new_plugin(name: str, directory: str) -> None:
    """Scaffold a working adapter distribution NAME, with tests that pass."""
    try:
        root = scaffold(name, Path(directory))
    except (ValueError, FileExistsError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {root}; next: pip install -e {root} && pytest {root / 'tests'}")


# -- the service -------------------------------------------------------------------------------


def _db_option(also: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--db",
        default="sqlite:///slarules.db",
        show_default=True,
        help="The store: sqlite:///path/to/file.db (relative; sqlite:////… for an absolute "
        f"path){also}.",
    )


def _open_store(url: str) -> Store:
    try:
        return open_store(url)
    except StoreError as error:
        raise click.ClickException(str(error)) from None


@main.command()
@click.argument("policy", type=click.Path(exists=True, dir_okay=False))
@_db_option(", or memory:// (nothing kept)")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--token",
    envvar="SLARULES_TOKEN",
    help="Bearer token for /events, the ticket APIs and /admin (or SLARULES_TOKEN).",
)
@click.option("--max-body", default=1024 * 1024, show_default=True, help="Request size limit.")
@click.option(
    "--max-attempts", default=8, show_default=True, help="Delivery attempts before dead letter."
)
@click.option(
    "--max-age",
    type=_Duration(),
    default="24h",
    show_default=True,
    help="An action due longer ago than this before it could be sent becomes a dead letter "
    "instead (a backfill, an outage); 0s sends everything.",
)
def serve(
    policy: str,
    db: str,
    host: str,
    port: int,
    token: str | None,
    max_body: int,
    max_attempts: int,
    max_age: timedelta,
) -> None:
    """Run the service: webhooks and events in, timers and actions out, kept in the store."""
    import uvicorn

    try:
        runtime = Runtime.open(
            policy, _open_store(db), max_attempts=max_attempts, max_age=max_age or None
        )
    except (PolicyError, PluginError) as error:
        raise click.ClickException(str(error)) from None
    app = create_app(runtime, policy, token=token, max_body=max_body)

    def reload_on_hangup(signum: int, frame: object) -> None:
        # Reloading replays the store: not in the signal handler, which runs on the event loop.
        threading.Thread(target=_reload, args=(runtime, policy), daemon=True).start()

    signal.signal(signal.SIGHUP, reload_on_hangup)
    click.echo(f"slarules serving {policy} on http://{host}:{port} (store {db})", err=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        runtime.close()  # closed already if it served; not if it could not start


def _reload(runtime: Runtime, policy: str) -> None:
    try:
        runtime.reload(policy)
    except PolicyError as error:
        click.echo(f"reload refused; the old policies keep running:\n{error}", err=True)
    else:
        click.echo(f"reloaded {policy}", err=True)


@main.group()
def deadletters() -> None:
    """Rejected input and actions given up on: list, show, retry, drop."""


@deadletters.command(name="list")
@_db_option()
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table")
def deadletters_list(db: str, output_format: str) -> None:
    """Dead actions (by key) and rejected input (by number)."""
    with _stored(db) as store:
        dead, rejected = store.outbox("dead"), store.rejected()
    if output_format == "json":
        listing = {
            "actions": [
                {"key": e.action.key, "attempts": e.attempts, "error": e.last_error} for e in dead
            ],
            "rejected": [
                {"id": id_, "stage": r.stage, "adapter": r.adapter, "reason": r.reason}
                for id_, r in rejected
            ],
        }
        click.echo(json.dumps(listing, indent=2))
        return
    _console().print(deadletters_table(dead, rejected))


@deadletters.command(name="show")
@click.argument("ident")
@_db_option()
def deadletters_show(ident: str, db: str) -> None:
    """One dead action (by key) or rejected input (by number), in full."""
    with _stored(db) as store:
        if ident.isdigit():
            found = dict(store.rejected()).get(int(ident))
            if found is None:
                raise click.ClickException(f"no rejected input number {ident}")
            click.echo(found.model_dump_json(indent=2))
            return
        entry = next((e for e in store.outbox() if e.action.key == ident), None)
    if entry is None:
        raise click.ClickException(f"no action with key `{ident}`")
    click.echo(json.dumps({
        "status": entry.status, "attempts": entry.attempts, "error": entry.last_error,
        "action": entry.action.model_dump(mode="json"),
    }, indent=2))  # fmt: skip


@deadletters.command(name="retry")
@click.argument("idents", nargs=-1)
@_db_option()
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False),
    help="Needed to retry rejected input, which goes through the engine again; stop the "
    "service first.",
)
def deadletters_retry(idents: tuple[str, ...], db: str, policy: str | None) -> None:
    """Queue dead actions for delivery again (the running service picks them up), or take
    rejected input again (with --policy). With no IDENTS, everything."""
    with _stored(db) as store:
        dead, numbers = _dead_letters(store, idents)
        if numbers and policy is None and idents:
            raise click.ClickException("retrying rejected input needs --policy")
        for entry in dead:
            store.settle(entry.action.key, "pending", 0, entry.next_attempt, entry.last_error)
        if dead or not idents:  # say nothing of actions when only rejected input was named
            click.echo(f"{len(dead)} action(s) queued again")
        if numbers and policy is None:
            click.echo(f"{len(numbers)} rejected input(s) left: retry them with --policy")
        elif numbers:
            assert policy is not None
            before = len(store.rejected())
            Runtime.open(policy, store).retry_rejected(numbers)
            taken = before - len(store.rejected())  # what failed again is kept, renumbered
            others = before - len(numbers)
            click.echo(
                f"{taken} rejected input(s) taken, {len(numbers) - taken} rejected again"
                + (f"; {others} other(s) not retried" if others else "")
            )


@deadletters.command(name="drop")
@click.argument("idents", nargs=-1, required=True)
@_db_option()
def deadletters_drop(idents: tuple[str, ...], db: str) -> None:
    """Give up on dead actions and forget rejected input, for good."""
    with _stored(db) as store:
        dead, numbers = _dead_letters(store, idents)
        store.drop_rejected(numbers)
        for entry in dead:
            store.settle(entry.action.key, "dropped", entry.attempts, entry.next_attempt)
    click.echo(f"dropped {len(dead)} action(s) and {len(numbers)} rejected input(s)")


def _dead_letters(store: Store, idents: Sequence[str]) -> tuple[list[OutboxEntry], list[int]]:
    """The dead actions (by key) and rejected input (by number) that ``idents`` name, every one
    when they name none; one that names neither is an error, before anything is done."""
    dead = {entry.action.key: entry for entry in store.outbox("dead")}
    rejected = [number for number, _ in store.rejected()]
    if not idents:
        return list(dead.values()), rejected
    unknown = [
        f"no rejected input number {ident}" if ident.isdigit() else f"no dead action `{ident}`"
        for ident in idents
        if (int(ident) not in rejected if ident.isdigit() else ident not in dead)
    ]
    if unknown:
        raise click.ClickException(f"nothing done: {'; '.join(unknown)}")
    chosen = set(idents)
    return (
        [entry for key, entry in dead.items() if key in chosen],
        [number for number in rejected if str(number) in chosen],
    )


@contextlib.contextmanager
def _stored(url: str) -> Iterator[Store]:
    """The store at ``url``, closed when done."""
    store = _open_store(url)
    try:
        yield store
    finally:
        store.close()
