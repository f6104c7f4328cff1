"""Hours lines as the language and the ``--hours`` option write them."""

from datetime import UTC, date, datetime, timedelta

import pytest

from slarules import CalendarError
from slarules.dsl.ast import DateHours, WeeklyHours
from slarules.dsl.hours import calendar_from_hours, parse_hours


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-fri 09:00-17:00", (WeeklyHours, ("mon-fri",), ("09:00-17:00",))),
        (
            "mon-fri 09:00-12:00, 13:00-18:00",
            (WeeklyHours, ("mon-fri",), ("09:00-12:00", "13:00-18:00")),
        ),
        ("sat, sun 10:00-14:00", (WeeklyHours, ("sat", "sun"), ("10:00-14:00",))),
        ("Monday 22:00-06:00", (WeeklyHours, ("Monday",), ("22:00-06:00",))),
        ("fri-mon 00:00-24:00", (WeeklyHours, ("fri-mon",), ("00:00-24:00",))),
        ("2026-12-24 09:00-12:00", (DateHours, date(2026, 12, 24), ("09:00-12:00",))),
        ("2026-12-24   closed", (DateHours, date(2026, 12, 24), ())),
    ],
)
def test_parse(text: str, expected: tuple[type, object, tuple[str, ...]]) -> None:
    kind, days, spans = expected
    line = parse_hours(text)
    assert isinstance(line, kind)
    assert (line.days if isinstance(line, WeeklyHours) else line.day) == days
    assert line.spans == spans


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "mon-fri 9-17",
            "invalid hours `mon-fri 9-17` at column 9: unexpected `9`; "
            "expected `,` or a time like `09:00`",
        ),
        (
            "mon-fri",
            "invalid hours `mon-fri` at column 8: the text ends early; "
            "expected `,` or a time like `09:00`",
        ),
        (
            "mon 09:00 17:00",
            "invalid hours `mon 09:00 17:00` at column 11: unexpected `17:00`; expected `-`",
        ),
        (
            "2026-12-24",
            "invalid hours `2026-12-24` at column 11: the text ends early; "
            "expected `closed` or a time like `09:00`",
        ),
        (
            "09:00-17:00",
            "invalid hours `09:00-17:00` at column 1: unexpected `09:00`; "
            "expected a date like `2026-12-24` or a weekday like `mon`",
        ),
        ("mon; 09:00-17:00", "invalid hours `mon; 09:00-17:00` at column 4: unexpected `;`"),
        (
            "2026-13-01 closed",
            "invalid hours `2026-13-01 closed` at column 1: invalid date `2026-13-01` "
            "(write dates as YYYY-MM-DD, like `2026-12-24`)",
        ),
    ],
)
def test_syntax_errors_say_where_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(CalendarError) as error:
        parse_hours(text)
    assert str(error.value).startswith(message)
    for lark_word in ("Token", "TIME", "WEEKDAY", "$END", "MINUS"):
        assert lark_word not in str(error.value)


def test_calendar_from_lines() -> None:
    cal = calendar_from_hours(
        "Europe/Berlin",
        [
            parse_hours("mon-fri 09:00-12:00, 13:00-18:00"),
            parse_hours("sat 10:00-14:00"),
            parse_hours("2026-12-24 09:00-12:00"),
            parse_hours("2026-12-31 closed"),
        ],
        holidays=[date(2026, 12, 25)],
    )
    assert cal.weekly["mon"] == ("09:00-12:00", "13:00-18:00")
    assert cal.weekly["sat"] == ("10:00-14:00",)
    assert "sun" not in cal.weekly
    assert cal.overrides == {date(2026, 12, 24): ("09:00-12:00",), date(2026, 12, 31): ()}
    christmas_eve = datetime(2026, 12, 24, 10, tzinfo=UTC)  # 11:00 in Berlin
    assert cal.add(christmas_eve, timedelta(hours=2)) == datetime(2026, 12, 26, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["mon-fri 09:00-17:00", "fri 10:00-12:00"], "weekday `fri` is given twice"),
        (["mon 09:00-17:00", "mon 10:00-12:00"], "weekday `mon` is given twice"),
        (["2026-12-24 closed", "2026-12-24 09:00-12:00"], "date `2026-12-24` is given hours twice"),
        (["mnday 09:00-17:00"], "unknown weekday `mnday` (did you mean `monday`?)"),
        (["mon 09:00-25:00"], "invalid time `25:00` in `mon` hours"),
        (["mon 09:00-12:00, 11:00-13:00"], "overlapping spans `09:00-12:00` and `11:00-13:00`"),
    ],
)
def test_calendar_errors_name_the_value(lines: list[str], message: str) -> None:
    with pytest.raises(CalendarError) as error:
        calendar_from_hours("UTC", [parse_hours(line) for line in lines])
    assert message in str(error.value)
