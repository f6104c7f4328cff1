"""Benchmark of reports: replayed tickets to `slarules report` figures, beside pandas.

Workload: the engine benchmark's seeded tickets (ten events each) through the bundled example
policy file. Measured on one core:

* replay: events per second through an engine without actions (as ``slarules report`` replays),
  and the time to measure every clock;
* report: :func:`slarules.report.build_report` (grouped figures, percentiles, breaches, the
  four service level formulas, per-hour periods in Europe/Berlin) over the measured clocks;
* the peak memory of the whole way as ``slarules report`` goes it (the replay, then the report
  over clocks measured one ticket at a time), on ``--memory-tickets`` tickets (tracemalloc slows
  what it traces, so apart from the timings);
* the same grouped compliance and percentiles with pandas (``groupby``), the library a user
  would otherwise pick, from the same clocks; both must agree on every group;
* the projection to the issue's 1,000,000 tickets (target under 60 s and 2 GB), linear in the
  tickets, labelled as such.

Figures are printed, not asserted. ``python tests/benchmarks/bench_report.py [--tickets N]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from bench_engine import generate

from slarules import Engine
from slarules.examples import example_policy_path
from slarules.metrics import TicketClocks
from slarules.report import ReportOptions, build_report

TARGET_TICKETS = 1_000_000
TARGET_SECONDS = 60.0
TARGET_BYTES = 2 * 1024**3


def replay(events: list[dict[str, Any]]) -> tuple[Engine, float]:
    """An engine without actions, as `slarules report` replays, and the seconds it took."""
    engine = Engine.from_file(example_policy_path(), actions=False)
    gc.collect()
    started = time.perf_counter()
    for offset in range(0, len(events), 10_000):
        engine.ingest_many(events[offset : offset + 10_000])
    return engine, time.perf_counter() - started


def report(
    tickets: Iterable[TicketClocks], at: datetime
) -> tuple[float, dict[tuple[str, str], float | None]]:
    """Seconds of the report, and its compliance by policy and metric."""
    options = ReportOptions(at=at, by=("policy", "metric"), period="hour", timezone="Europe/Berlin")
    started = time.perf_counter()
    built = build_report(tickets, options)
    seconds = time.perf_counter() - started
    compliance = {(r.group["policy"], r.group["metric"]): r.compliance for r in built.rows}
    return seconds, compliance


def whole_way(events: list[dict[str, Any]]) -> None:
    """As `slarules report --events`: replay, then the report over clocks measured one ticket
    at a time."""
    engine, _ = replay(events)
    end = max(event["at"] for event in events)
    report(engine.measure(end), end)


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--memory-tickets", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    events = generate(options.tickets, options.seed)
    engine, replayed = replay(events)
    end = max(event["at"] for event in events)
    started = time.perf_counter()
    measured = list(engine.measure(end))
    measuring = time.perf_counter() - started
    clocks = sum(len(t.clocks) for t in measured)
    print(f"{options.tickets:,} tickets, {len(events):,} events, {clocks:,} clocks")
    print(
        f"replay: {len(events) / replayed:,.0f} events/s ({replayed:.1f} s); "
        f"measuring {measuring:.1f} s"
    )
    seconds, ours = report(measured, end)
    print(f"report: {seconds:.2f} s")
    pandas_seconds, theirs = with_pandas(measured)
    agree = ours.keys() == theirs.keys() and all(
        (ours[k] is None and theirs[k] is None) or abs((ours[k] or 0) - (theirs[k] or 0)) < 1e-9
        for k in ours
    )
    print(f"pandas groupby, same figures: {pandas_seconds:.2f} s; "
          f"ratio slarules / pandas {seconds / pandas_seconds:.2f}")  # fmt: skip
    sample = generate(options.memory_tickets, options.seed)
    pipeline = traced_peak(lambda: whole_way(sample))
    per_ticket = pipeline / options.memory_tickets
    print(f"peak from replay to report ({options.memory_tickets:,} tickets): "
          f"{pipeline / 1024**2:.0f} MiB, {per_ticket:,.0f} B per ticket")  # fmt: skip
    total = (replayed + measuring + seconds) * TARGET_TICKETS / options.tickets
    projected_peak = per_ticket * TARGET_TICKETS
    print(
        f"projected to {TARGET_TICKETS:,} tickets (linear): {total:,.0f} s "
        f"(target {TARGET_SECONDS:.0f} s: {'met' if total < TARGET_SECONDS else 'NOT met'}), "
        f"peak {projected_peak / 1024**3:.1f} GiB "
        f"(target 2 GiB: {'met' if projected_peak < TARGET_BYTES else 'NOT met'})"
    )
    if not agree:
        print("slarules and pandas disagree", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
