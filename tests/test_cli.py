"""The ``slarules calendar`` commands, run through click's test runner."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from slarules.cli import main

BERLIN = ["--tz", "Europe/Berlin", "--hours", "mon-fri 09:00-17:00", "--holiday", "2026-12-25"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_add_prints_the_deadline_in_the_calendars_zone() -> None:
    # The README's quick start: one hour on Thursday, Friday is a holiday, one hour on Monday.
    code, output = run(
        "calendar", "add", *BERLIN, "--start", "2026-12-24T16:00:00+01:00", "--duration", "2h"
    )
    assert (code, output) == (0, "2026-12-28T10:00:00+01:00\n")


def test_add_backwards_and_in_utc() -> None:
    code, output = run(
        "calendar",
        "add",
        *BERLIN,
        "--start",
        "2026-12-28T10:00:00+01:00",
        "--duration",
        "-2h",
        "--utc",
    )
    assert (code, output) == (0, "2026-12-24T15:00:00+00:00\n")


@pytest.mark.parametrize(
    ("on_close", "due"),
    [("next_open", "2026-12-28T09:00:00+01:00"), ("close", "2026-12-24T17:00:00+01:00")],
)
def test_on_close(on_close: str, due: str) -> None:
    code, output = run(
        "calendar",
        "add",
        *BERLIN,
        "--on-close",
        on_close,
        "--start",
        "2026-12-24T16:00:00+01:00",
        "--duration",
        "1h",
    )
    assert (code, output) == (0, due + "\n")


def test_several_hours_lines_and_an_override() -> None:
    code, output = run(
        "calendar",
        "add",
        "--tz",
        "Europe/Berlin",
        "--hours",
        "mon-fri 09:00-12:00, 13:00-17:00",
        "--hours",
        "sat 10:00-14:00",
        "--hours",
        "2026-12-24 09:00-12:00",
        "--holiday",
        "2026-12-25",
        "--start",
        "2026-12-24T11:00:00+01:00",
        "--duration",
        "2h",
    )
    assert (code, output) == (0, "2026-12-26T11:00:00+01:00\n")


def test_between() -> None:
    code, output = run(
        "calendar",
        "between",
        *BERLIN,
        "--start",
        "2026-12-24T16:00:00+01:00",
        "--end",
        "2026-12-31T16:00:00+01:00",
    )
    assert (code, output) == (0, "32h\n")
    code, output = run(
        "calendar",
        "between",
        *BERLIN,
        "--start",
        "2026-12-28T10:30:00+01:00",
        "--end",
        "2026-12-24T16:00:00+01:00",
    )
    assert (code, output) == (0, "-2h30m\n")


@pytest.mark.parametrize(
    ("at", "state"),
    [
        ("2026-12-24T16:59:59+01:00", "open"),
        ("2026-12-24T17:00:00+01:00", "closed"),
        ("2026-12-25T10:00:00Z", "closed"),
    ],
)
def test_is_open(at: str, state: str) -> None:
    assert run("calendar", "is-open", *BERLIN, "--at", at) == (0, state + "\n")


def test_next_open() -> None:
    assert run("calendar", "next-open", *BERLIN, "--at", "2026-12-24T17:00:00+01:00") == (
        0,
        "2026-12-28T09:00:00+01:00\n",
    )
    assert run("calendar", "next-open", *BERLIN, "--at", "2026-12-24T10:00:00+01:00") == (
        0,
        "2026-12-24T10:00:00+01:00\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--tz", "Europe/Berln", "--hours", "mon 09:00-17:00"],
            "unknown time zone `Europe/Berln` (did you mean `Europe/Berlin`?)",
        ),
        (["--tz", "UTC", "--hours", "mon-fri 9-17"], "invalid hours `mon-fri 9-17` at column 9"),
        (["--tz", "UTC", "--hours", "mon 09:00-25:00"], "invalid time `25:00` in `mon` hours"),
        (
            ["--tz", "UTC", "--hours", "mon 22:00-06:00", "--hours", "tue 05:00-07:00"],
            "`22:00-06:00` runs past midnight into `05:00-07:00`",
        ),
        (
            ["--tz", "UTC", "--hours", "mon 09:00-17:00", "--holiday", "25.12.2026"],
            "`25.12.2026` is not a date",
        ),
    ],
)
def test_bad_calendars_are_usage_errors(args: list[str], message: str) -> None:
    code, output = run("calendar", "is-open", *args, "--at", "2026-12-24T10:00:00Z")
    assert code == 2
    assert message in output


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--start", "2026-12-24T16:00:00", "has no UTC offset; add one such as +01:00 or Z"),
        ("--start", "Christmas", "`Christmas` is not an ISO 8601 date-time"),
        ("--duration", "2 hours", "invalid duration `2 hours`"),
    ],
)
def test_bad_queries_are_usage_errors(option: str, value: str, message: str) -> None:
    args = {"--start": "2026-12-24T16:00:00+01:00", "--duration": "2h", option: value}
    code, output = run(
        "calendar", "add", *BERLIN, *[item for pair in args.items() for item in pair]
    )
    assert code == 2
    assert message in output


def test_a_query_without_an_answer_fails_cleanly() -> None:
    code, output = run(
        "calendar",
        "add",
        "--tz",
        "UTC",
        "--hours",
        "2026-12-24 09:00-10:00",
        "--start",
        "2026-12-24T16:00:00Z",
        "--duration",
        "2h",
    )
    assert code == 1
    assert output == (
        "Error: the calendar is never open after 2026-12-24T16:00:00+00:00: "
        "it has no weekly hours and no override opens it\n"
    )
    assert "Traceback" not in output


SUPPORT = """\
calendar office {
    timezone "Europe/Berlin"
    hours mon-fri 09:00-17:00
    holiday 2026-12-25
}

policy "Standard" {
    calendar office
    first_response within 4h
}
"""


def test_a_calendar_from_a_policy_file(tmp_path: Path) -> None:
    policy = tmp_path / "support.sla"
    policy.write_text(SUPPORT, encoding="utf-8")
    code, output = run(
        "calendar", "add", "--calendar", f"{policy}:office",
        "--start", "2026-12-24T16:00:00+01:00", "--duration", "2h",
    )  # fmt: skip
    assert (code, output) == (0, "2026-12-28T10:00:00+01:00\n")
    code, output = run(
        "calendar", "is-open", "--calendar", f"{policy}:ofice", "--at", "2026-12-24T10:00:00Z"
    )
    assert code == 2
    assert "has no calendar `ofice` (did you mean `office`?); it has `always`, `office`" in output
    code, output = run(
        "calendar", "is-open", "--calendar", f"{policy}:office", "--tz", "UTC",
        "--at", "2026-12-24T10:00:00Z",
    )  # fmt: skip
    assert code == 2
    assert "give either --calendar or --tz and --hours, not both" in output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "give --tz and at least one --hours, or --calendar FILE.sla:NAME"),
        (["--tz", "UTC"], "give --tz and at least one --hours, or --calendar FILE.sla:NAME"),
        (["--calendar", "office"], "--calendar `office`: write it as FILE.sla:NAME"),
        (["--calendar", "{broken}:office"], "--calendar `{broken}:office`: the file has errors"),
    ],
)
def test_a_calendar_must_be_given_one_way(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    broken = tmp_path / "broken.sla"
    broken.write_text('calendar office { timezone "Europe/Berln" }', encoding="utf-8")
    given = [argument.replace("{broken}", str(broken)) for argument in arguments]
    code, output = run("calendar", "is-open", *given, "--at", "2026-12-24T10:00:00Z")
    assert code == 2
    assert message.replace("{broken}", str(broken)) in output


def test_check_passes_a_clean_file(tmp_path: Path) -> None:
    policy = tmp_path / "support.sla"
    policy.write_text(SUPPORT, encoding="utf-8")
    assert run("check", str(policy)) == (0, f"{policy}: ok\n")


def test_check_fails_with_diagnostics(tmp_path: Path) -> None:
    policy = tmp_path / "support.sla"
    policy.write_text(SUPPORT.replace("calendar office\n", "calendar ofice\n"), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(policy)])
    assert result.exit_code == 1
    assert result.stdout == f"{policy}: 1 error(s)\n"
    assert result.stderr == (
        f"{policy}:8:14: error[SLA102]: unknown calendar `ofice` (did you mean `office`?)\n"
        "  |\n"
        "8 |     calendar ofice\n"
        "  |              ^^^^^\n"
        "help: define it with `calendar ofice { ... }` or use one of: `always`, `office`\n\n"
    )


def test_check_as_json(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.sla", tmp_path / "bad.sla"
    good.write_text(SUPPORT, encoding="utf-8")
    bad.write_text(SUPPORT.replace("4h", "4"), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--format", "json", str(good), str(bad)])
    assert result.exit_code == 1
    reports = json.loads(result.stdout)
    assert [(r["file"], r["ok"]) for r in reports] == [(str(good), True), (str(bad), False)]
    (diagnostic,) = reports[1]["diagnostics"]
    assert {key: diagnostic[key] for key in ("code", "severity", "line", "column")} == {
        "code": "SLA001",
        "severity": "error",
        "line": 9,
        "column": 27,
    }


MESSY = 'policy   "Standard"   {  first_response within 24h   # the default\n}\n'
TIDY = 'policy "Standard" {\n    first_response within 24h  # the default\n}\n'


def test_fmt_rewrites_files(tmp_path: Path) -> None:
    policy = tmp_path / "support.sla"
    policy.write_text(MESSY, encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", str(policy)])
    assert (result.exit_code, result.stderr) == (0, f"reformatted {policy}\n")
    assert policy.read_text(encoding="utf-8") == TIDY
    result = CliRunner().invoke(main, ["fmt", "--check", str(policy)])
    assert (result.exit_code, result.output) == (0, "")


def test_fmt_check_and_diff_change_nothing(tmp_path: Path) -> None:
    policy = tmp_path / "support.sla"
    policy.write_text(MESSY, encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", "--check", str(policy)])
    assert (result.exit_code, result.stderr) == (1, f"would reformat {policy}\n")
    result = CliRunner().invoke(main, ["fmt", "--diff", str(policy)])
    assert result.exit_code == 0
    assert f"+++ {policy} (formatted)\n" in result.stdout
    assert '+policy "Standard" {\n' in result.stdout
    assert policy.read_text(encoding="utf-8") == MESSY


def test_fmt_refuses_a_file_that_does_not_parse(tmp_path: Path) -> None:
    policy = tmp_path / "support.sla"
    policy.write_text('policy "Standard" {\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", str(policy)])
    assert result.exit_code == 1
    assert "error[SLA003]: the file ends early" in result.stderr
    assert policy.read_text(encoding="utf-8") == 'policy "Standard" {\n'
