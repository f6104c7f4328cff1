"""Smoke test of the calendar benchmark, so that it cannot rot between releases.

It runs ``tests/benchmarks/bench_calendar.py`` on a few hundred pairs: the script must agree with
slarules on every pair (it exits with status 1 otherwise) and report every target. The figures are
too noisy at this size to mean anything, so targets are not checked here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).parent / "benchmarks" / "bench_calendar.py"
RATIO_LINE = re.compile(
    r"^\s*(?P<calendar>office|lunch)\s+(?P<what>.+?)\s*:\s+\S.*\(target >= .+\)\s+(met|NOT met)$",
    re.MULTILINE,
)
EXPECTED_TARGETS = {
    "scalar add / pandas add, aware",
    "scalar add / pandas add, naive",
    "scalar add / day-loop add",
    "scalar between / day-loop between",
    "batch add",
    "batch between",
}


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=script.parents[2],
    )


def test_benchmark_runs_agrees_and_reports_every_target() -> None:
    completed = run(SCRIPT, "--pairs", "300")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    reported = {(match["calendar"], match["what"]) for match in RATIO_LINE.finditer(output)}
    expected = {(calendar, what) for calendar in ("office", "lunch") for what in EXPECTED_TARGETS}
    assert reported == expected, output


ENGINE_SCRIPT = Path(__file__).parent / "benchmarks" / "bench_engine.py"
ENGINE_LINES = ("ingest:", "memory:", "at rest", "advance with", "ratio")


def test_engine_benchmark_runs_and_reports_every_figure() -> None:
    completed = run(ENGINE_SCRIPT, "--tickets", "300", "--memory-tickets", "300")
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output  # exits 1 when slarules and rule-engine disagree
    for line in ENGINE_LINES:
        assert line in output, output
    assert output.count("rule-engine") == 5, output


REPORT_SCRIPT = Path(__file__).parent / "benchmarks" / "bench_report.py"


def test_report_benchmark_runs_agrees_with_pandas_and_projects() -> None:
    completed = run(
        REPORT_SCRIPT, "--tickets", "200", "--memory-tickets", "200", "--whole-way-tickets", "200"
    )
    output = completed.stdout + completed.stderr
    # It exits 1 when slarules and pandas disagree, or the report in shares differs.
    assert completed.returncode == 0, output
    for line in (
        "gathering from a JSON lines file:",
        "replaying",
        "ratio slarules / pandas",
        "projected to 1,000,000",
        "the whole way measured on 200 tickets (2,000 events",
    ):
        assert line in output, output


def test_the_streamed_events_file_is_the_file_of_the_events_held(tmp_path: Path) -> None:
    """The million-ticket run writes its events without holding them: the same file."""
    sys.path.insert(0, str(REPORT_SCRIPT.parent))
    try:
        import bench_report
        from bench_engine import generate
    finally:
        sys.path.remove(str(REPORT_SCRIPT.parent))
    bench_report.write_events(generate(300, 5), tmp_path / "held.jsonl")
    bench_report.write_streamed(300, 5, tmp_path / "streamed.jsonl")
    held = (tmp_path / "held.jsonl").read_bytes()
    assert held.count(b"\n") == 3000
    assert (tmp_path / "streamed.jsonl").read_bytes() == held
