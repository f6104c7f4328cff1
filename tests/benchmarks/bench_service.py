"""Benchmark of the durable runtime and of `slarules serve`, with the bundled example policy.

* in-process, durable (SQLite, one transaction per call, ``synchronous=FULL``): events/s and
  latency of :meth:`Runtime.ingest` one event per call, and of :meth:`Runtime.ingest_many` in
  batches, against the same work on a bare :class:`Engine` (the price of durability, as a ratio);
  target 10,000 events/s;
* over HTTP on 127.0.0.1: ``slarules serve`` in one process, a load generator in another
  (several connections, batches of events, bounded in time); events/s and request latency
  p50/p99; target 2,000 events/s;
* timer lag with 100,000 pending timers: the runtime's loop fires them as they fall due; how late
  (p50/p99/max), measured by a plugin's ``slarules_on_breach`` hook; target p99 under 1 s.

Figures are printed, not asserted. ``python tests/benchmarks/bench_service.py [--events N]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from slarules import Clock, Engine, hookimpl
from slarules.examples import example_policy_path
from slarules.runtime import Runtime
from slarules.store import SqliteStore

sys.path.insert(0, str(Path(__file__).parent))
from bench_engine import generate

TOKEN = "bench-token"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def in_process(events: list[dict[str, Any]], folder: Path) -> None:
    bare = Engine.from_file(example_policy_path())
    started = time.perf_counter()
    bare.ingest_many(events)
    bare_rate = len(events) / (time.perf_counter() - started)

    # The runtime's clock at the stream's start, as for a live stream: the same work as the
    # bare engine's (a wall clock months later would make every event a late one).
    def start() -> datetime:
        return events[0]["at"]  # type: ignore[no-any-return]

    single = Runtime.open(example_policy_path(), SqliteStore(folder / "single.db"), clock=start)
    sample = events[: min(len(events), 5_000)]
    latencies = []
    started = time.perf_counter()
    for event in sample:
        begin = time.perf_counter()
        single.ingest(event)
        latencies.append(time.perf_counter() - begin)
    single_rate = len(sample) / (time.perf_counter() - started)
    single.close()

    batched = Runtime.open(example_policy_path(), SqliteStore(folder / "batched.db"), clock=start)
    started = time.perf_counter()
    for at in range(0, len(events), 100):
        batched.ingest_many(events[at : at + 100])
    batched_rate = len(events) / (time.perf_counter() - started)
    batched.close()

    print(f"in-process, engine only:            {bare_rate:>9,.0f} events/s")
    p50, p99 = percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3
    print(
        f"in-process, durable, 1 per call:    {single_rate:>9,.0f} events/s  "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )
    print(
        f"in-process, durable, batches of 100:{batched_rate:>9,.0f} events/s  "
        f"({batched_rate / 10_000:.2f} of the 10,000 target; {batched_rate / bare_rate:.2f} of "
        "the bare engine)"
    )


def _load(url: str, batches: list[str], connections: int, seconds: float, queue: Any) -> None:
    """The load generator, in its own process: POST batches until the time is up."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    sent = 0
    lock = threading.Lock()
    position = iter(range(len(batches)))

    def worker() -> None:
        nonlocal sent
        with httpx.Client(base_url=url, timeout=30.0,
                          headers={"Authorization": f"Bearer {TOKEN}",
                                   "Content-Type": "application/json"}) as client:  # fmt: skip
            while time.monotonic() < deadline:
                with lock:
                    index = next(position, None)
                if index is None:
                    return
                begin = time.perf_counter()
                answer = client.post("/events", content=batches[index])
                elapsed = time.perf_counter() - begin
                assert answer.status_code == 202, answer.text
                with lock:
                    latencies.append(elapsed)
                    sent += answer.json()["accepted"]

    started = time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        workers = [pool.submit(worker) for _ in range(connections)]
    for running in workers:
        running.result()  # a failed request is the benchmark's failure, not a quiet zero
    queue.put((sent, time.perf_counter() - started, latencies))


def over_http(events: list[dict[str, Any]], folder: Path, seconds: float) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "slarules", "serve", str(example_policy_path()),
         "--db", f"sqlite:///{folder / 'http.db'}", "--port", str(port), "--token", TOKEN,
         "--max-body", str(16 * 1024 * 1024)],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=1.0)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        # The service runs on the wall clock: the load is live traffic, so the events are moved
        # to start now (months-old events would fire months of timers at once, which is a
        # backfill, not the load being measured).
        shift = datetime.now(UTC) - min(event["at"] for event in events)
        live = [{**event, "at": event["at"] + shift} for event in events]
        batches = [
            json.dumps(live[at : at + 50], default=datetime.isoformat)
            for at in range(0, len(live), 50)
        ]
        queue: Any = multiprocessing.Queue()
        generator = multiprocessing.Process(target=_load, args=(url, batches, 4, seconds, queue))
        generator.start()
        sent, elapsed, latencies = queue.get()
        generator.join()
    finally:
        server.terminate()
        server.wait()
    rate = sent / elapsed
    print(
        f"over HTTP (4 connections, batches of 50): {rate:>7,.0f} events/s  "
        f"({rate / 2_000:.2f} of the 2,000 target); requests p50 "
        f"{percentile(latencies, 0.5) * 1e3:.1f} ms, p99 {percentile(latencies, 0.99) * 1e3:.1f} ms"
    )


class _LagProbe:
    """Records how late each breach hook runs after the breach instant."""

    plugin_name = "lag_probe"

    def __init__(self) -> None:
        self.lags: list[float] = []

    @hookimpl
    def slarules_on_breach(self, clock: Clock) -> None:
        assert clock.breached_at is not None
        self.lags.append((datetime.now(UTC) - clock.breached_at).total_seconds())


def timer_lag(tickets: int, folder: Path) -> None:
    policy = folder / "lag.sla"
    policy.write_text('policy "All" { applies when true  first_response within 1h }\n')
    probe = _LagProbe()
    runtime = Runtime.open(policy, SqliteStore(folder / "lag.db"), plugins=[probe])
    # Breaches spread over the 20 seconds after loading ends.
    load_ends = datetime.now(UTC) + timedelta(seconds=tickets / 8_000)
    events = [
        {"id": f"e{n}", "ticket": f"T-{n}", "type": "ticket.created",
         "at": (load_ends - timedelta(hours=1) + timedelta(seconds=20 * n / tickets)).isoformat()}
        for n in range(tickets)
    ]  # fmt: skip
    for at in range(0, len(events), 1000):
        runtime.ingest_many(events[at : at + 1000])
    pending = runtime.store.pending_timers()
    stop = threading.Event()
    loop = threading.Thread(target=runtime.run, args=(stop,))
    loop.start()
    deadline = time.monotonic() + 60
    while len(probe.lags) < tickets and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    runtime.wake()
    loop.join()
    lags = probe.lags
    print(
        f"timer lag, {pending:,} pending timers: p50 {percentile(lags, 0.5):.3f} s, "
        f"p99 {percentile(lags, 0.99):.3f} s (target under 1 s), max {max(lags):.3f} s, "
        f"{len(lags):,} fired"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--http-seconds", type=float, default=10.0)
    parser.add_argument("--timers", type=int, default=100_000)
    options = parser.parse_args()
    events = generate(options.events // 10, seed=7)
    with tempfile.TemporaryDirectory() as folder:
        in_process(events, Path(folder))
        over_http(events, Path(folder), options.http_seconds)
        timer_lag(options.timers, Path(folder))
    print(f"(cores: {os.cpu_count()}, Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
