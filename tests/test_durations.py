from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slarules.durations import format_duration, parse_duration
from slarules.errors import SlaRulesError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(hours=48)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("-15m", timedelta(minutes=-15)),
        ("0s", timedelta(0)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "write it like"),
        ("1.5h", "write it like"),
        ("h", "write it like"),
        ("10", "write it like"),
        ("2w", "write it like"),
        ("30m1h", "largest first"),
        ("1h1h", "each unit once"),
    ],
)
def test_parse_rejects(text: str, complaint: str) -> None:
    with pytest.raises(SlaRulesError, match=complaint) as error:
        parse_duration(text)
    assert f"`{text}`" in str(error.value)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(hours=40), "40h"),
        (timedelta(hours=1, seconds=5), "1h5s"),
        (timedelta(minutes=-90), "-1h30m"),
        (timedelta(0), "0s"),
    ],
)
def test_format(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


@given(st.integers(-(10**9), 10**9))
def test_format_round_trips(seconds: int) -> None:
    duration = timedelta(seconds=seconds)
    assert parse_duration(format_duration(duration)) == duration
