"""`slarules serve` killed with SIGKILL at random points while a client streams events: after
each restart nothing acknowledged is lost, the clocks equal a clean replay, and every action
reaches the receiver (by key; a crash mid-delivery may send one again, never skip one)."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from distributions import install_courier

from slarules import Engine
from slarules.runtime import Runtime
from slarules.store import SqliteStore
from slarules.testing import HelpdeskServer, Response

TOKEN = "crash-test-token"
EVENTS = 20_000
BATCH = 25
KILLS = 10
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # in the past: every timer is due at once


def policy(receiver: str) -> str:
    return f"""
policy "All" {{
    applies when true
    first_response within 30m
    resolution within 2h
}}
trigger "late answer" when first_response.breached then post "{receiver}/receive"
trigger "late fix" when resolution.breached then post "{receiver}/receive"
"""


def stream(seed: int) -> list[dict[str, object]]:
    """Five events per ticket: created, a requester nudge, an agent answer (sometimes late),
    pending and solved; tickets interleaved in time."""
    rng = random.Random(seed)
    events: list[tuple[datetime, dict[str, object]]] = []
    for number in range(EVENTS // 5):
        ticket, at = f"T-{number}", START + timedelta(seconds=rng.randrange(5 * 86_400))
        steps: list[tuple[str, dict[str, object]]] = [
            ("ticket.created", {"fields": {"status": "open"}}),
            ("ticket.replied", {"actor": {"id": "rita", "role": "requester"}}),
            ("ticket.replied", {"actor": {"id": "ana", "role": "agent"}}),
            ("ticket.updated", {"fields": {"status": "pending"}}),
            ("ticket.updated", {"fields": {"status": "solved"}}),
        ]
        for step, (kind, extra) in enumerate(steps):
            at += timedelta(minutes=rng.randrange(1, 50))
            event = {"id": f"{ticket}-{step}", "ticket": ticket, "type": kind,
                     "at": at.isoformat(), **extra}  # fmt: skip
            events.append((at, event))
    events.sort(key=lambda pair: pair[0])
    return [event for _, event in events]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServiceProcess:
    def __init__(self, policy_file: Path, database: Path, site: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable, "-m", "slarules", "serve", str(policy_file),
            "--db", f"sqlite:///{database}", "--port", str(self.port), "--token", TOKEN,
            # The stream is dated in the past: every action it causes must still go out.
            "--max-age", "0s",
        ]  # fmt: skip
        self.environment = {
            **os.environ,
            "PYTHONPATH": f"{site}{os.pathsep}" + os.environ.get("PYTHONPATH", ""),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.environment)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the service exited at start"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError("the service did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=30)


def test_a_service_stopped_by_a_signal_leaves_its_whole_store_in_the_database_file(
    tmp_path: Path,
) -> None:
    policy_file = tmp_path / "support.sla"
    policy_file.write_text('policy "All" { applies when true  first_response within 1h }')
    database = tmp_path / "slarules.db"
    service = ServiceProcess(policy_file, database, tmp_path)
    service.start()
    created = {"id": "e1", "ticket": "T-1", "type": "ticket.created", "at": START.isoformat()}
    answer = httpx.post(f"{service.url}/events", json=[created],
                        headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert answer.status_code == 202
    service.stop()  # SIGTERM, as a service manager stops it
    # The file alone, as a backup copies it, holds everything: the log was written back.
    assert not database.with_name("slarules.db-wal").exists()
    copy = tmp_path / "copy" / "slarules.db"
    copy.parent.mkdir()
    copy.write_bytes(database.read_bytes())
    store = SqliteStore(copy)
    try:
        assert [ticket.ticket for ticket in store.load().tickets] == ["T-1"]
    finally:
        store.close()


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing_and_skips_no_action(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_courier(site)
    monkeypatch.syspath_prepend(str(site))  # this process checks the result with it too
    rng = random.Random(2026)
    events = stream(seed=11)
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    kill_after = set(rng.sample(range(1, len(batches)), KILLS))
    acknowledged: list[str] = []

    with HelpdeskServer() as receiver:
        receiver.respond("POST", "/receive", Response(200, {}))
        policy_file = tmp_path / "support.sla"
        policy_file.write_text(policy(receiver.url))
        service = ServiceProcess(policy_file, tmp_path / "slarules.db", site)
        service.start()
        client = httpx.Client(base_url=service.url, timeout=30.0,
                              headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
        for number, batch in enumerate(batches):
            if number in kill_after:
                # The kill lands while the loop delivers, or between requests; the next batch
                # goes to the restarted service.
                time.sleep(rng.uniform(0, 0.05))
                service.kill()
                service.start()
            answer = client.post("/events", json=batch)
            assert answer.status_code == 202, answer.text
            acknowledged += [str(event["id"]) for event in batch]

        settled, deadline = 0, time.monotonic() + 120
        while settled < 3 and time.monotonic() < deadline:
            # Nothing left to deliver, three times in a row: the loop has caught up.
            settled = settled + 1 if _pending(service.url) == 0 else 0
            time.sleep(0.5)
        service.stop()
        delivered = Counter(request.json()["key"] for request in receiver.requests)

    now = datetime.now(UTC)
    runtime = Runtime.open(policy_file, SqliteStore(tmp_path / "slarules.db"))
    try:
        # Every acknowledged event is in the log; each ticket's clocks equal a clean replay.
        stored = {str(e["id"]) for saved in runtime.engine.snapshot().tickets for e in saved.events}
        assert set(acknowledged) <= stored
        clean = Engine.from_text(policy(receiver.url))
        clean_actions = clean.ingest_many(events) + clean.advance(now)
        for ticket in clean.tickets():
            assert runtime.engine.clocks(ticket, now) == clean.clocks(ticket, now), ticket
        # Every action the service decided on reached the receiver, and nothing else did; a
        # kill in the middle of a delivery round may send that round again, nothing more.
        outbox = runtime.store.outbox()
        assert {entry.status for entry in outbox} == {"done"}
        decided = {entry.action.key for entry in outbox}
        assert set(delivered) == decided
        assert {action.key for action in clean_actions} <= decided
        assert sum(delivered.values()) - len(delivered) <= KILLS * 100
    finally:
        runtime.close()


def _pending(url: str) -> float:
    """Actions waiting in the service's outbox."""
    text = httpx.get(f"{url}/metrics", timeout=5.0).text
    figures = dict(line.split(" ", 1) for line in text.splitlines() if not line.startswith("#"))
    return float(figures["slarules_actions_pending"])
