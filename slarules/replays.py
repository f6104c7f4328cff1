"""Clocks replayed from events, ticket by ticket, for reports over many tickets.

An :class:`~slarules.Engine` keeps every ticket's state live, ready for the next event: a few
kilobytes a ticket. A report needs each ticket's clocks once, at one instant. A :class:`Replay`
gathers the events by ticket, packed as the engine packs its histories (a few hundred bytes a
ticket), and replays each ticket alone when it is measured, then lets it go: a report over a
million tickets holds their events and its figures, never a million tickets' clocks.

The clocks are the engine's, from the same steps in the same order: a ticket's events sorted by
time, whatever order they came in (the engine replays a ticket the same way after a late event).
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import sys
import traceback
from collections.abc import Iterable, Iterator
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from slarules._history import Record, add, has_id, pack
from slarules._instants import from_micros, to_micros
from slarules._program import compile_program
from slarules._ticket import discard, replay
from slarules.dsl.loader import load_policies
from slarules.engine import EventInput
from slarules.errors import EventError, SlaRulesError
from slarules.events import Event
from slarules.metrics import TicketClocks
from slarules.plugins import Plugins
from slarules.policyset import PolicySet
from slarules.report import Report, ReportCount, ReportOptions

__all__ = ["SHARE", "Replay"]

# Tickets: fewer are counted sooner in one process than another process starts.
SHARE = 5_000
# macOS can fork, but its system frameworks (NumPy's Accelerate among them) may not survive it.
_CAN_FORK = "fork" in multiprocessing.get_all_start_methods() and sys.platform != "darwin"


class Replay:
    """Events gathered by ticket, measured ticket by ticket.

    >>> from slarules import parse_policies
    >>> replay = Replay(parse_policies(
    ...     'policy "All" { applies when true  calendar always  first_response within 1h }'))
    >>> replay.add_many([
    ...     {"id": "2", "ticket": "T-1", "type": "ticket.replied", "at": "2026-03-02T09:20:00Z",
    ...      "actor": {"id": "ana", "role": "agent"}},
    ...     {"id": "1", "ticket": "T-1", "type": "ticket.created", "at": "2026-03-02T09:00:00Z"},
    ...     {"id": "1", "ticket": "T-1", "type": "ticket.created", "at": "2026-03-02T09:00:00Z"},
    ...     {"id": "3", "ticket": "T-2", "type": "ticket.created", "at": "09:30"}])
    [(3, EventError(...))]
    >>> replay.events, replay.duplicates
    (2, 1)
    >>> for ticket in replay.measure(replay.latest):
    ...     print(ticket.ticket, [(c.metric, c.state.value, str(c.elapsed)) for c in ticket.clocks])
    T-1 [('first_response', 'met', '0:20:00')]
    """

    def __init__(self, policies: PolicySet) -> None:
        self.policies = policies
        self._program = compile_program(policies).without_actions()
        self._histories: dict[str, bytes] = {}
        self._latest: int | None = None
        self.events = 0
        self.duplicates = 0  # events whose id the ticket already had, left out

    @classmethod
    def from_file(cls, path: str | Path, plugins: Plugins | None = None) -> Replay:
        """A replay of the policy file at ``path``, whose conditions may use the functions of
        ``plugins`` (the installed ones unless given)."""
        plugins = plugins if plugins is not None else Plugins()
        return cls(load_policies(path, plugins.vocabulary()))

    def add(self, event: EventInput) -> None:
        """Take one event, in any order; a bad one raises :class:`EventError`."""
        parsed = Event.parse(event)
        history = self._histories.get(parsed.ticket, b"")
        if has_id(history, parsed.id.encode()):
            self.duplicates += 1
            return
        record = Record.of(parsed)
        self._histories[parsed.ticket] = add(history, pack(record))
        self.events += 1
        if self._latest is None or record.at > self._latest:
            self._latest = record.at

    def add_many(self, events: Iterable[EventInput]) -> list[tuple[int, EventError]]:
        """Take events; the bad ones are left out and returned with their positions."""
        rejected = []
        for position, event in enumerate(events):
            try:
                self.add(event)
            except EventError as error:
                rejected.append((position, error))
        return rejected

    @property
    def latest(self) -> datetime | None:
        """The instant of the latest event taken."""
        return None if self._latest is None else from_micros(self._latest)

    def tickets(self) -> list[str]:
        return list(self._histories)

    def measure(self, now: datetime) -> Iterator[TicketClocks]:
        """Each ticket's clocks at ``now``, with its fields then, one ticket at a time: the events
        after ``now`` do not count."""
        return self._measure(to_micros(now, "now"), 0, len(self._histories))

    def report(self, options: ReportOptions, jobs: int = 1, share: int = SHARE) -> Report:
        """The report of every ticket, measured at ``options.at``. With ``jobs`` above one, the
        tickets are cut in as many shares (of ``share`` tickets at least), counted in as many
        processes and merged: the same report, sooner on a machine with the cores. The other
        processes are forked, and see the events without a copy; where processes cannot fork
        safely (Windows, macOS), one process counts every ticket. Fork from a process whose
        other threads, if any, hold no lock (the command line has none)."""
        at = to_micros(options.at, "the report's instant")
        if not _CAN_FORK:
            jobs = 1
        first, *others = _shares(len(self._histories), jobs, share)
        if not others:
            return self._count(options, at, *first).report()
        # The collector leaves the objects of now alone, here and in the forked processes: a
        # collection there would write to every object, and the pages would no longer be shared.
        gc.freeze()
        try:
            context = multiprocessing.get_context("fork")
            workers = []
            for start, stop in others:
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(
                    target=self._count_share, args=(options, at, start, stop, sender), daemon=True
                )
                process.start()
                sender.close()
                workers.append((process, receiver))
            count = self._count(options, at, *first)
            for process, receiver in workers:
                count.merge(_received(process, receiver))
        finally:
            gc.unfreeze()
        return count.report()

    def _measure(self, at: int, start: int, stop: int) -> Iterator[TicketClocks]:
        program = self._program
        for ticket, history in itertools.islice(self._histories.items(), start, stop):
            yield replay(program, ticket, history, at, discard).measured(at)

    def _count(self, options: ReportOptions, at: int, start: int, stop: int) -> ReportCount:
        """The report's count of tickets ``start`` to ``stop``."""
        count = ReportCount(options)
        for ticket in self._measure(at, start, stop):
            count.add(ticket)
        return count

    def _count_share(
        self, options: ReportOptions, at: int, start: int, stop: int, sender: Connection
    ) -> None:
        """In a forked process: count tickets ``start`` to ``stop`` and send the count back."""
        try:
            sender.send(self._count(options, at, start, stop))
        except BaseException:
            sender.send(traceback.format_exc())
        finally:
            sender.close()


def _shares(tickets: int, jobs: int, share: int) -> list[tuple[int, int]]:
    """``jobs`` (or fewer) consecutive ranges of about equal size, of ``share`` tickets at least
    unless there is only one, covering every ticket."""
    count = max(1, min(jobs, tickets // share))
    bounds = [tickets * part // count for part in range(count + 1)]
    return list(itertools.pairwise(bounds))


def _received(process: BaseProcess, receiver: Connection) -> ReportCount:
    try:
        count = receiver.recv()
    except EOFError:
        count = None
    finally:
        receiver.close()
    process.join()
    if isinstance(count, ReportCount):
        return count
    failure = count if isinstance(count, str) else f"it ended with exit code {process.exitcode}"
    raise SlaRulesError(f"a report process counting a share of the tickets failed: {failure}")
