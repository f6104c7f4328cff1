"""Benchmark of reports: replayed tickets to `slarules report` figures, beside pandas.

Workload: the engine benchmark's seeded tickets (ten events each) through the bundled example
policy file, the way ``slarules report --events`` goes (:class:`slarules.replays.Replay`).
Measured:

* gathering: events per second into a replay (validation, then packed by ticket), from a JSON
  lines file as ``slarules report --events`` reads it (:meth:`Replay.add_file`), in one process
  and in one for each usable core;
* the report, ticket by ticket: each ticket replayed, measured and counted into
  :func:`slarules.report.build_report` (grouped figures, percentiles, breaches, the four service
  level formulas, per-hour periods in Europe/Berlin), and apart, the replay alone and so the
  report over the replayed tickets (measuring and counting);
* the report in shares, one process for each usable core (:meth:`Replay.report`), which must
  be the report of one pass, with the phases of its slowest share;
* the peak memory of the whole way in one process (gathering, then the report), on
  ``--memory-tickets`` tickets (tracemalloc slows what it traces, so apart from the timings);
* the same grouped compliance and percentiles with pandas (``groupby``), the library a user
  would otherwise pick, from the same clocks; both must agree on every group;
* the projection to the issue's 1,000,000 tickets (target under 60 s and 2 GB), linear in the
  tickets, labelled as such;
* the whole way measured, not projected, on ``--whole-way-tickets`` tickets (the issue's
  1,000,000 unless given; 0 skips it): the same tickets streamed to a JSON lines file (1.7 GB
  for a million), then ``slarules report --events FILE --format json`` run as a user runs it,
  timed on the wall clock, with the peak of the memory of all its processes together (their
  proportional set sizes, which share the pages forked processes share, sampled from ``/proc``).

Figures are printed, not asserted. ``python tests/benchmarks/bench_report.py [--tickets N]``.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from bench_engine import START, generate, generate_unsorted

from slarules._instants import to_micros
from slarules._ticket import discard, replay
from slarules.examples import example_policy_path
from slarules.metrics import TicketClocks
from slarules.replays import SHARE, Replay, _shares
from slarules.report import ReportOptions, build_report

TARGET_TICKETS = 1_000_000
TARGET_SECONDS = 60.0
TARGET_BYTES = 2 * 1024**3


def write_events(events: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as file:
        for event in events:
            file.write(json.dumps({**event, "at": event["at"].isoformat()}) + "\n")


def write_streamed(tickets: int, seed: int, path: Path) -> None:
    """The events of ``generate(tickets, seed)`` written as :func:`write_events` writes them,
    without holding them all: each event goes to the file of its day, and each day's events are
    sorted apart (stably, as ``generate`` sorts) and appended in turn."""
    days: dict[int, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-days-") as scratch:
        for event in generate_unsorted(tickets, seed):
            seconds = int((event["at"] - START).total_seconds())
            day = days.get(seconds // 86_400)
            if day is None:
                day = days[seconds // 86_400] = open(  # noqa: SIM115 (closed below)
                    Path(scratch) / str(seconds // 86_400), "w", encoding="utf-8"
                )
            day.write(f"{seconds:012d} {json.dumps({**event, 'at': event['at'].isoformat()})}\n")
        with path.open("w", encoding="utf-8") as file:
            for number in sorted(days):
                days[number].close()
                lines = (Path(scratch) / str(number)).read_text(encoding="utf-8").splitlines()
                lines.sort(key=lambda line: line[:12])
                file.writelines(line[13:] + "\n" for line in lines)


def run_report_command(path: Path) -> tuple[float, int]:
    """``slarules report --events path`` as a user runs it: the wall-clock seconds, and the peak
    of the proportional set sizes of its processes together (bytes)."""
    command = [sys.executable, "-m", "slarules", "report", str(example_policy_path()),
               "--events", str(path), "--by", "policy,metric", "--period", "hour",
               "--tz", "Europe/Berlin", "--format", "json", "-o", os.devnull]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    peak = [0]
    sampler = threading.Thread(target=_sample_memory, args=(process, peak), daemon=True)
    sampler.start()
    if process.wait() != 0:
        raise SystemExit(f"slarules report failed with exit code {process.returncode}")
    seconds = time.perf_counter() - started
    sampler.join()
    return seconds, peak[0]


def _sample_memory(process: subprocess.Popen[bytes], peak: list[int]) -> None:
    while process.poll() is None:
        peak[0] = max(peak[0], _tree_pss(process.pid))
        time.sleep(0.2)


def _tree_pss(pid: int) -> int:
    """The proportional set size of a process and its descendants, in bytes (0 once gone)."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0
    pss = next(line for line in rollup.splitlines() if line.startswith("Pss:"))
    return int(pss.split()[1]) * 1024 + sum(_tree_pss(int(child)) for child in children)


def gather(path: Path, jobs: int) -> tuple[Replay, float]:
    """The events of a JSON lines file gathered by ticket, as `slarules report --events` takes
    them, and the seconds it took."""
    replayed = Replay.from_file(example_policy_path())
    gc.collect()
    started = time.perf_counter()
    replayed.add_file(path, jobs=jobs)
    return replayed, time.perf_counter() - started


class Phases:
    """The report of tickets ``start`` to ``stop``, as :meth:`Replay.measure` feeds it, with
    the seconds spent replaying and measuring kept apart (the rest is counting)."""

    def __init__(self, replayed: Replay, at: datetime, start: int, stop: int) -> None:
        self.replayed, self.at, self.start, self.stop = replayed, at, start, stop
        self.replaying = self.measuring = 0.0

    def __iter__(self) -> Iterator[TicketClocks]:
        until, program = to_micros(self.at, "at"), self.replayed._program
        clock = time.perf_counter
        shared = itertools.islice(self.replayed._histories.items(), self.start, self.stop)
        for ticket, history in shared:
            started = clock()
            state = replay(program, ticket, history, until, discard)
            replayed = clock()
            measured = state.measured(until)
            self.replaying += replayed - started
            self.measuring += clock() - replayed
            yield measured

    def run(self) -> tuple[float, float, float]:
        """Seconds replaying, measuring and counting."""
        reporting, _ = report(self, self.at)
        return self.replaying, self.measuring, reporting - self.replaying - self.measuring


_FORKED: list[tuple[Replay, datetime]] = []  # what the forked processes of `in_shares` read


def in_shares(replayed: Replay, at: datetime, jobs: int) -> list[tuple[float, float, float]]:
    """The phases of each share of the tickets, counted in a process of its own, as
    :meth:`Replay.report` shares them out."""
    _FORKED[:] = [(replayed, at)]
    shares = _shares(len(replayed.tickets()), jobs, SHARE)
    gc.freeze()  # as Replay.report does
    try:
        with multiprocessing.get_context("fork").Pool(len(shares)) as pool:
            return pool.starmap(_share_phases, shares)
    finally:
        gc.unfreeze()


def _share_phases(start: int, stop: int) -> tuple[float, float, float]:
    replayed, at = _FORKED[0]
    return Phases(replayed, at, start, stop).run()


def report(
    tickets: Iterable[TicketClocks], at: datetime
) -> tuple[float, dict[tuple[str, str], float | None]]:
    """Seconds of the report, and its compliance by policy and metric."""
    started = time.perf_counter()
    built = build_report(tickets, report_options(at))
    seconds = time.perf_counter() - started
    compliance = {(r.group["policy"], r.group["metric"]): r.compliance for r in built.rows}
    return seconds, compliance


def report_options(at: datetime) -> ReportOptions:
    return ReportOptions(at=at, by=("policy", "metric"), period="hour", timezone="Europe/Berlin")


def whole_way(path: Path) -> None:
    """As `slarules report --events --jobs 1`: gathering, then the report ticket by ticket."""
    replayed, _ = gather(path, jobs=1)
    assert replayed.latest is not None
    report(replayed.measure(replayed.latest), replayed.latest)


def traced_peak(work: Callable[[], object]) -> int:
    """Peak bytes allocated while ``work`` runs (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def with_pandas(measured: list[TicketClocks]) -> tuple[float, dict[tuple[str, str], float | None]]:
    """The grouped compliance and percentiles as a pandas user writes them, from the clocks."""
    started = time.perf_counter()
    frame = pd.DataFrame(
        {
            "policy": [c.policy for t in measured for c in t.clocks],
            "metric": [c.metric for t in measured for c in t.clocks],
            "state": [c.state.value for t in measured for c in t.clocks],
            "elapsed": [c.elapsed.total_seconds() for t in measured for c in t.clocks],
        }
    )
    frame["met"] = frame["state"] == "met"
    frame["breached"] = frame["state"].isin(["breached_met", "breached_running"])
    frame["ended"] = frame["state"].isin(["met", "breached_met"])
    groups = frame.groupby(["policy", "metric"], sort=False)
    counts = groups[["met", "breached"]].sum()
    ended = frame[frame["ended"]].groupby(["policy", "metric"])["elapsed"]
    ended.quantile([0.5, 0.9, 0.99])
    seconds = time.perf_counter() - started
    compliance: dict[tuple[str, str], float | None] = {}
    for (policy, metric), row in counts.iterrows():
        decided = row["met"] + row["breached"]
        compliance[(policy, metric)] = None if decided == 0 else 100.0 * row["met"] / decided
    return seconds, compliance


def _processes(count: int) -> str:
    return "1 process" if count == 1 else f"{count} processes"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--memory-tickets", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--whole-way-tickets", type=int, default=TARGET_TICKETS)
    options = parser.parse_args(argv)
    events = generate(options.tickets, options.seed)
    end = max(event["at"] for event in events)
    scratch = Path(tempfile.mkdtemp(prefix="bench-report-"))
    events_file = scratch / "events.jsonl"
    write_events(events, events_file)
    jobs = len(os.sched_getaffinity(0))
    _, gathering_shared = gather(events_file, jobs)
    replayed, gathering = gather(events_file, 1)
    replaying, measuring, counting = Phases(replayed, end, 0, options.tickets).run()
    reporting, after_replay = replaying + measuring + counting, measuring + counting
    measured = list(replayed.measure(end))
    clocks = sum(len(t.clocks) for t in measured)
    print(f"{options.tickets:,} tickets, {len(events):,} events, {clocks:,} clocks")
    print(
        f"gathering from a JSON lines file: {len(events) / gathering:,.0f} events/s "
        f"({gathering:.1f} s) in one process, {len(events) / gathering_shared:,.0f} events/s "
        f"({gathering_shared:.1f} s) in {_processes(jobs)} (Replay.add_file)"
    )
    print(
        f"the report ticket by ticket, one process: {reporting:.1f} s: replaying "
        f"{replaying:.1f} s, measuring {measuring:.1f} s, counting {counting:.1f} s"
    )
    seconds, ours = report(measured, end)
    pandas_seconds, theirs = with_pandas(measured)
    agree = ours.keys() == theirs.keys() and all(
        (ours[k] is None and theirs[k] is None) or abs((ours[k] or 0) - (theirs[k] or 0)) < 1e-9
        for k in ours
    )
    print(f"counting alone, over the measured clocks: {seconds:.2f} s; pandas groupby, same "
          f"figures: {pandas_seconds:.2f} s; ratio slarules / pandas "
          f"{seconds / pandas_seconds:.2f}")  # fmt: skip
    del measured
    shares = in_shares(replayed, end, jobs)
    slowest = max(shares, key=sum)
    started = time.perf_counter()
    in_processes = replayed.report(report_options(end), jobs=jobs)
    parallel = time.perf_counter() - started
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    agree = agree and in_processes == build_report(replayed.measure(end), report_options(end))
    print(
        f"the report in {_processes(len(shares))} (Replay.report, jobs={jobs}): {parallel:.1f} s; "
        f"the slowest share: replaying {slowest[0]:.1f} s, measuring {slowest[1]:.1f} s, counting "
        f"{slowest[2]:.1f} s; largest share process {largest / 1024**2:.0f} MiB resident "
        "(the events it shares with the first included)"
    )
    del replayed
    if options.memory_tickets != options.tickets:
        write_events(generate(options.memory_tickets, options.seed), events_file)
    pipeline = traced_peak(lambda: whole_way(events_file))
    shutil.rmtree(scratch)
    per_ticket = pipeline / options.memory_tickets
    print(f"peak of the whole way ({options.memory_tickets:,} tickets): "
          f"{pipeline / 1024**2:.0f} MiB, {per_ticket:,.0f} B per ticket")  # fmt: skip
    scale = TARGET_TICKETS / options.tickets
    projected_peak = per_ticket * TARGET_TICKETS
    for label, total in (
        ("the report over the replayed tickets (measuring, counting), one process",
         after_replay * scale),
        (f"the report over the replayed tickets, {_processes(len(shares))}",
         (slowest[1] + slowest[2]) * scale),
        ("the whole way, gathering and replay included, one process",
         (gathering + reporting) * scale),
        (f"the whole way, {_processes(jobs)}", (gathering_shared + parallel) * scale),
    ):  # fmt: skip
        print(
            f"projected to {TARGET_TICKETS:,} tickets (linear), {label}: {total:,.0f} s "
            f"(target {TARGET_SECONDS:.0f} s: {_verdict(total < TARGET_SECONDS)})"
        )
    print(
        f"projected peak of the whole way: {projected_peak / 1024**3:.2f} GiB "
        f"(target 2 GiB: {_verdict(projected_peak < TARGET_BYTES)})"
    )
    if options.whole_way_tickets:
        whole_way_measured(options.whole_way_tickets, options.seed)
    if not agree:
        print("slarules and pandas disagree, or the report in shares differs", file=sys.stderr)
        raise SystemExit(1)


def whole_way_measured(tickets: int, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-report-") as scratch:
        events_file = Path(scratch) / "events.jsonl"
        write_streamed(tickets, seed, events_file)
        size = events_file.stat().st_size
        seconds, peak = run_report_command(events_file)
    at_target = tickets >= TARGET_TICKETS  # the targets are for that many tickets or more
    print(
        f"the whole way measured on {tickets:,} tickets ({tickets * 10:,} events, a "
        f"{size / 1024**3:.2f} GiB file): `slarules report --events FILE --format json` in "
        f"{_processes(len(os.sched_getaffinity(0)))} took {seconds:,.1f} s"
        + (f" (target 60 s: {_verdict(seconds < TARGET_SECONDS)})" if at_target else "")
        + f", its processes together peaking at {peak / 1024**3:.2f} GiB"
        + (f" (target 2 GiB: {_verdict(peak < TARGET_BYTES)})" if at_target else "")
    )


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    main()
