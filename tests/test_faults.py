"""Faults around the runtime: a receiver that is down, slow, failing or throttling; a store locked
by another process. Deliveries retry with backoff and end as dead letters, input is never lost,
and the engine keeps serving."""

from __future__ import annotations

import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from distributions import install_courier
from engine_helpers import HOUR, SECOND, Events, FakeClock, utc

from slarules.runtime import Backoff, Runtime
from slarules.store import SqliteStore, StoreError
from slarules.testing import HelpdeskServer, Response

START = utc("2026-03-02T09:00:00Z")


@pytest.fixture(autouse=True)
def courier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_courier(site)
    monkeypatch.syspath_prepend(str(site))


@pytest.fixture
def receiver() -> Iterator[HelpdeskServer]:
    with HelpdeskServer() as server:
        yield server


def runtime_for(url: str, tmp_path: Path, clock: FakeClock, **options: object) -> Runtime:
    policy = tmp_path / "support.sla"
    policy.write_text(
        'policy "All" { applies when true  first_response within 1h }\n'
        f'trigger "late" when first_response.breached then post "{url}/receive"\n'
    )
    return Runtime.open(
        policy,
        SqliteStore(tmp_path / "s.db"),
        settings={"courier": {"timeout": "0.3"}},
        clock=clock,
        rng=random.Random(3),
        **options,  # type: ignore[arg-type]
    )


def breach_one_ticket(runtime: Runtime, clock: FakeClock) -> None:
    runtime.ingest(Events().created("T-1", START))
    clock.now = START + 2 * HOUR
    runtime.advance()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_receiver_that_is_down_gets_retries_then_a_dead_letter(tmp_path: Path) -> None:
    clock = FakeClock(START)
    runtime = runtime_for(f"http://127.0.0.1:{closed_port()}", tmp_path, clock, max_attempts=4)
    breach_one_ticket(runtime, clock)
    waits = []
    for _ in range(4):
        [delivery] = runtime.deliver_due()
        assert "receiver unreachable" in (delivery.error or "")
        pending = runtime.store.outbox("pending")
        if pending:
            waits.append(pending[0].next_attempt - clock.now)
            clock.now = pending[0].next_attempt
    # Full jitter under a doubling cap: 0-1 s, 0-2 s, 0-4 s.
    assert [wait <= limit * SECOND for wait, limit in zip(waits, (1, 2, 4), strict=True)] == [
        True, True, True
    ]  # fmt: skip
    [dead] = runtime.dead_letters()
    assert dead.attempts == 4
    # The engine kept serving all along.
    runtime.ingest(Events(prefix="more").created("T-2", clock.now))
    assert "T-2" in runtime.engine.tickets()


def test_a_failing_receiver_is_retried_and_gets_the_action_once(
    tmp_path: Path, receiver: HelpdeskServer
) -> None:
    receiver.respond("POST", "/receive", Response(500), Response(200))
    clock = FakeClock(START)
    runtime = runtime_for(receiver.url, tmp_path, clock)
    breach_one_ticket(runtime, clock)
    [failed] = runtime.deliver_due()
    assert failed.error == "receiver answered 500"
    clock.now = runtime.store.outbox("pending")[0].next_attempt
    [delivered] = runtime.deliver_due()
    assert delivered.ok
    clock.now += HOUR
    assert runtime.deliver_due() == []
    keys = [request.headers["idempotency-key"] for request in receiver.requests]
    assert keys == [delivered.action.key, delivered.action.key]  # the same key both times


def test_a_throttling_receiver_is_left_alone_for_its_retry_after(
    tmp_path: Path, receiver: HelpdeskServer
) -> None:
    receiver.respond(
        "POST", "/receive", Response(429, headers={"Retry-After": "30"}), Response(200)
    )
    clock = FakeClock(START)
    runtime = runtime_for(receiver.url, tmp_path, clock, backoff=Backoff(base=1.0))
    breach_one_ticket(runtime, clock)
    runtime.deliver_due()
    [entry] = runtime.store.outbox("pending")
    assert entry.next_attempt >= clock.now + 30 * SECOND
    clock.now += 29 * SECOND
    assert runtime.deliver_due() == []
    clock.now = entry.next_attempt
    assert [d.ok for d in runtime.deliver_due()] == [True]


def test_a_slow_receiver_times_out_and_is_retried(tmp_path: Path, receiver: HelpdeskServer) -> None:
    receiver.respond("POST", "/receive", Response(200, delay=1.0), Response(200))
    clock = FakeClock(START)
    runtime = runtime_for(receiver.url, tmp_path, clock)
    breach_one_ticket(runtime, clock)
    [slow] = runtime.deliver_due()
    assert "timed out" in (slow.error or "").lower()
    clock.now = runtime.store.outbox("pending")[0].next_attempt
    assert [d.ok for d in runtime.deliver_due()] == [True]


def test_input_refused_by_a_locked_store_is_not_lost_when_sent_again(tmp_path: Path) -> None:
    clock = FakeClock(START)
    runtime = runtime_for("http://127.0.0.1:9", tmp_path, clock)
    runtime.store.close()
    runtime.store = SqliteStore(tmp_path / "s.db", busy_timeout=0.2)
    event = Events().created("T-1", START)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, time\n"
         f"db = sqlite3.connect({str(tmp_path / 's.db')!r}, isolation_level=None)\n"
         "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(StoreError, match="another process holds it"):
            runtime.ingest(event)
    finally:
        holder.kill()
        holder.wait()
    assert runtime.engine.tickets() == []  # not acknowledged, so not kept in memory either
    runtime.ingest(event)  # the sender's retry
    assert runtime.engine.tickets() == ["T-1"]
    assert [t.ticket for t in runtime.store.load().tickets] == ["T-1"]
    assert runtime.engine.clocks("T-1", START + timedelta(minutes=5))[0].elapsed == 5 * 60 * SECOND
