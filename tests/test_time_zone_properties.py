"""Properties of local time: wall times to instants, report periods and cron runs, in zones
with DST changes of an hour and of half an hour, at midnight, and a day skipped outright.

Each is checked against an oracle that walks UTC minute by minute and asks ``zoneinfo`` (not
pytz, which slarules reads) for the local wall time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from slarules._instants import from_micros, to_micros
from slarules._program import ScheduleProgram
from slarules.metrics import period_label
from slarules.schedules import next_run
from slarules.timezones import local_to_utc, offset_table

MINUTE = timedelta(minutes=1)
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # DST shifts by 30 minutes
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "America/Sao_Paulo",  # DST began at midnight, until 2019
    "Pacific/Apia",  # skipped 2011-12-30 to move across the date line
    "America/St_Johns",  # UTC-3:30
    "Asia/Kolkata",
    "UTC",
]
# Years whose rules pytz and the system's tz data agree on, wherever each comes from.
EARLIEST, LATEST = datetime(2008, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)


def transitions(zone: str) -> list[datetime]:
    """The zone's offset changes in the years tested: where the interesting instants are."""
    table = offset_table(zone)
    low, high = EARLIEST.timestamp(), LATEST.timestamp()
    return [datetime.fromtimestamp(s, UTC) for s in table.starts if low <= s < high] or [EARLIEST]


@st.composite
def zones_and_instants(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and an instant, half the time within two days of one of its offset changes."""
    zone = draw(st.sampled_from(ZONES))
    if draw(st.booleans()):
        near = draw(st.sampled_from(transitions(zone)))
        micros = draw(st.integers(-2 * 86_400_000_000, 2 * 86_400_000_000))
        return zone, near + timedelta(microseconds=micros)
    naive = draw(st.datetimes(EARLIEST.replace(tzinfo=None), LATEST.replace(tzinfo=None)))
    return zone, naive.replace(tzinfo=UTC)


def wall(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _floor_minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


# -- wall times to instants ----------------------------------------------------------------------


@given(zones_and_instants())
def test_the_offset_table_is_the_offset_of_every_instant(case: tuple[str, datetime]) -> None:
    zone, instant = case
    offset = instant.astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    seconds = int(instant.timestamp() // 1)
    assert offset_table(zone).offset_at(seconds) == offset.total_seconds()


def oracle_instant(local: datetime, zone: str) -> datetime:
    """The first instant whose wall time is ``local``; in a gap, the instant the gap ends."""
    minute = _floor_minute(local)
    # Every offset is within a day of UTC: walk from a day before, minute by minute.
    instant = minute.replace(tzinfo=UTC) - timedelta(days=1, minutes=1)
    while (shown := wall(instant, zone)) < minute:
        instant += MINUTE
    if shown == minute:
        return instant + (local - minute)
    return instant + timedelta(microseconds=local.microsecond)  # skipped: the change itself


@given(zones_and_instants(), st.integers(0, 59_999_999))
def test_a_wall_time_names_its_first_instant_or_the_end_of_its_gap(
    case: tuple[str, datetime], micros: int
) -> None:
    zone, instant = case
    local = _floor_minute(wall(instant, zone)) + timedelta(microseconds=micros)
    assert local_to_utc(local, zone) == oracle_instant(local, zone)


# -- report periods ------------------------------------------------------------------------------


def oracle_label(instant: datetime, period: str, zone: str) -> str:
    local = instant.astimezone(ZoneInfo(zone))
    if period == "hour":
        return local.strftime("%Y-%m-%dT%H:00") + local.isoformat()[-6:]
    if period == "day":
        return local.date().isoformat()
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.strftime("%Y-%m")


@given(zones_and_instants(), st.sampled_from(["hour", "day", "week", "month"]))
def test_an_instant_falls_in_the_local_period_it_shows_there(
    case: tuple[str, datetime], period: str
) -> None:
    zone, instant = case
    assert period_label(instant, period, zone) == oracle_label(instant, period, zone)  # type: ignore[arg-type]


# -- cron runs -----------------------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    weekdays: frozenset[int]  # Python's: Monday is 0

    @property
    def text(self) -> str:
        days = ",".join(WEEKDAYS[day] for day in sorted(self.weekdays))
        minutes, hours = _field(self.minutes, 60), _field(self.hours, 24)
        return f"{minutes} {hours} * * {_field(self.weekdays, 7, days)}"

    def matches(self, local: datetime) -> bool:
        return (
            local.minute in self.minutes
            and local.hour in self.hours
            and local.weekday() in self.weekdays
        )


def _field(values: frozenset[int], size: int, text: str | None = None) -> str:
    if len(values) == size:
        return "*"
    return text or ",".join(map(str, sorted(values)))


def _values(size: int, common: list[int]) -> st.SearchStrategy[frozenset[int]]:
    every = frozenset(range(size))
    return st.one_of(
        st.just(every),
        st.sets(st.sampled_from(common) | st.integers(0, size - 1), min_size=1, max_size=4).map(
            frozenset
        ),
    )


# The minutes and hours of DST changes are the common picks: 0 and 30; 0 to 3.
crons = st.builds(
    Cron,
    minutes=_values(60, [0, 15, 30, 45, 59]),
    hours=_values(24, [0, 1, 2, 3, 23]),
    weekdays=_values(7, list(range(7))),
)


def oracle_next_run(cron: Cron, zone: str, after: datetime) -> datetime:
    """Walk UTC minutes: a wall time that matches runs at its first occurrence, and a gap in
    which one would have matched runs at the instant it ends."""
    # From a day before, so that the first pass of a repeated hour before `after` is seen.
    instant = _floor_minute(after) - timedelta(days=1)
    seen: set[datetime] = set()
    previous = wall(instant, zone)
    while True:
        instant += MINUTE
        local = wall(instant, zone)
        skipped = local - previous > MINUTE and any(
            cron.matches(previous + k * MINUTE) for k in range(1, (local - previous) // MINUTE)
        )
        first = local not in seen
        seen.add(local)
        if instant > after and (skipped or (first and cron.matches(local))):
            return instant
        previous = local


@settings(max_examples=60, deadline=None)
@given(crons, zones_and_instants(), st.booleans())
def test_a_schedule_runs_at_the_next_cron_time_on_the_local_clock(
    cron: Cron, case: tuple[str, datetime], on_the_minute: bool
) -> None:
    zone, after = case
    if on_the_minute:  # as the engine asks, from the run before
        after = _floor_minute(after)
    schedule = ScheduleProgram("s", cron.text, zone, None, None, ())
    got = from_micros(next_run(schedule, to_micros(after)))
    assert got == oracle_next_run(cron, zone, after), cron.text
