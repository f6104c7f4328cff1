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

import contextlib
import gc
import itertools
import multiprocessing
import multiprocessing.connection
import os
import pickle
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, NamedTuple

from slarules._history import Record, add, follows, has_id, instant_and_id, last, pack, records
from slarules._instants import from_micros, to_micros
from slarules._jsonlines import line_problem, lines, ranges
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
from slarules.store import Store

__all__ = ["CHUNK", "LARGEST_CHUNK", "LARGEST_STORED_CHUNK", "SHARE", "STORED_CHUNK", "Replay"]

# Tickets: fewer are counted sooner in one process than another process starts.
SHARE = 5_000
# Bytes of an events file read at a time: some 30,000 events, a second or two of work; for a
# large file, up to LARGEST_CHUNK so that each reading process has a dozen chunks or so (see
# `_chunk_for`).
CHUNK = 8 * 1024 * 1024
LARGEST_CHUNK = 64 * 1024 * 1024
# Events of a store read at a time: as many as a chunk of a file holds, and as many as the
# largest chunk holds at most.
STORED_CHUNK = 30_000
LARGEST_STORED_CHUNK = 240_000
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
        self._gathered = _Gathered()

    @classmethod
    def from_file(cls, path: str | Path, plugins: Plugins | None = None) -> Replay:
        """A replay of the policy file at ``path``, whose conditions may use the functions of
        ``plugins`` (the installed ones unless given)."""
        plugins = plugins if plugins is not None else Plugins()
        return cls(load_policies(path, plugins.vocabulary()))

    def add(self, event: EventInput) -> None:
        """Take one event, in any order; a bad one raises :class:`EventError`."""
        parsed = Event.parse(event)
        self._gathered.take_event(parsed)

    def add_many(self, events: Iterable[EventInput]) -> list[tuple[int, EventError]]:
        """Take events; the bad ones are left out and returned with their positions."""
        rejected = []
        for position, event in enumerate(events):
            try:
                self.add(event)
            except EventError as error:
                rejected.append((position, error))
        return rejected

    def add_file(
        self,
        path: str | Path,
        jobs: int = 1,
        on_problem: Callable[[int, str], object] | None = None,
        on_progress: Callable[[int], object] | None = None,
        chunk: int | None = None,
    ) -> None:
        """Take every event of an events file (JSON lines), in file order, as :meth:`add` takes
        them one by one. A bad line is left out and given to ``on_problem`` with its number
        (from 1) and what is wrong with it; ``on_progress`` hears of the bytes read, ``chunk``
        bytes or so at a time (:data:`CHUNK` unless given, more for a large file).

        Reading and checking the events takes most of the time. With ``jobs`` above one, as
        many forked processes read chunks of the file and gather each chunk's events by ticket,
        and this one takes the chunks in file order: the same replay, sooner on a machine with
        the cores. Where processes cannot fork safely, this one reads the file."""
        path = Path(path)
        spans = ranges(path, chunk or _chunk_for(path.stat().st_size, jobs, CHUNK, LARGEST_CHUNK))

        def read(index: int) -> _Chunk:
            return _read_chunk(path, *spans[index])

        def progress(index: int) -> None:
            if on_progress:
                on_progress(spans[index][1] - spans[index][0])

        self._take_chunks(read, len(spans), jobs, on_problem, progress)

    def add_store(
        self,
        store: Store,
        jobs: int = 1,
        on_problem: Callable[[int, str], object] | None = None,
        on_progress: Callable[[int, int], object] | None = None,
        chunk: int | None = None,
    ) -> None:
        """Take every event a store keeps, in the order it took them, as :meth:`add` takes them
        one by one; an event that is no longer valid (a store written by hand, say) is left out
        and given to ``on_problem`` with its position (from 1) and what is wrong with it.
        ``on_progress`` hears, as each span is taken, how many are taken and how many there are.

        With ``jobs`` above one, as many forked processes read spans of ``chunk`` events
        (:meth:`Store.event_spans <slarules.store.Store.event_spans>`; :data:`STORED_CHUNK`
        unless given, more for a large store), each through a connection of its own, as
        :meth:`add_file` reads chunks of a file."""
        if chunk is None:
            kept = len(store.event_spans(STORED_CHUNK)) * STORED_CHUNK  # about
            chunk = _chunk_for(kept, jobs, STORED_CHUNK, LARGEST_STORED_CHUNK)
        spans = store.event_spans(chunk)

        def read(index: int) -> _Chunk:
            return _read_stored(store, spans[index])

        def progress(index: int) -> None:
            if on_progress:
                on_progress(index + 1, len(spans))

        self._take_chunks(read, len(spans), jobs, on_problem, progress)

    def _take_chunks(
        self,
        read: Callable[[int], _Chunk],
        count: int,
        jobs: int,
        on_problem: Callable[[int, str], object] | None,
        on_taken: Callable[[int], object],
    ) -> None:
        """Take chunks ``0`` to ``count - 1`` in order, read here or by ``jobs`` processes, and
        tell ``on_taken`` the index of each."""
        numbered = 0  # the lines (or stored events) of the chunks taken
        readers = min(jobs, count) if _CAN_FORK else 1
        with contextlib.ExitStack() as stack:
            if readers > 1:
                chunks: Iterator[_Chunk] = stack.enter_context(_Readers(read, count, readers))
            else:
                chunks = map(read, range(count))
            for index, taken in enumerate(chunks):
                self._gathered.merge(taken.gathered)
                if on_problem:
                    for number, problem in taken.problems:
                        on_problem(numbered + number, problem)
                numbered += taken.lines
                on_taken(index)

    @property
    def events(self) -> int:
        """The events taken."""
        return self._gathered.events

    @property
    def duplicates(self) -> int:
        """The events left out because their ticket had an event of their id."""
        return self._gathered.duplicates

    @property
    def latest(self) -> datetime | None:
        """The instant of the latest event taken."""
        latest = self._gathered.latest
        return None if latest is None else from_micros(latest)

    @property
    def _histories(self) -> dict[str, bytes]:
        return self._gathered.histories

    def tickets(self) -> list[str]:
        return list(self._histories)

    def measure(self, now: datetime) -> Iterator[TicketClocks]:
        """Each ticket's clocks at ``now``, with its fields then, one ticket at a time: the events
        after ``now`` do not count."""
        return self._measure(to_micros(now, "now"))

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
            workers: list[tuple[BaseProcess, Connection]] = []
            for start, stop in others:
                receiver, sender = context.Pipe(duplex=False)
                # The process is given the ends it must not hold, to close them (see below).
                held = [receiver, *(earlier for _, earlier in workers)]
                forked = context.Process(
                    target=self._count_share,
                    args=(options, at, start, stop, sender, held),
                    daemon=True,
                )
                forked.start()
                sender.close()
                workers.append((forked, receiver))
            count = self._count(options, at, *first)
            for process, receiver in workers:
                count.merge(_received(process, receiver))
        finally:
            gc.unfreeze()
        return count.report()

    def _measure(self, at: int) -> Iterator[TicketClocks]:
        program = self._program
        for ticket, history in self._histories.items():
            yield replay(program, ticket, history, at, discard).measured(at)

    def _count(
        self, options: ReportOptions, at: int, start: int, stop: int, taker: int | None = None
    ) -> ReportCount:
        """The report's count of tickets ``start`` to ``stop``. In a forked process, counting
        stops as soon as ``taker``, the process that would take the count, is gone: a share of a
        million tickets would otherwise keep a core busy for a minute for nobody."""
        count, program = ReportCount(options), self._program
        for ticket, history in itertools.islice(self._histories.items(), start, stop):
            if taker is not None and os.getppid() != taker:
                break
            state = replay(program, ticket, history, at, discard)
            count.add_clocks(_TicketFields(ticket, state.fields), state.readings(at))
        return count

    def _count_share(
        self,
        options: ReportOptions,
        at: int,
        start: int,
        stop: int,
        sender: Connection,
        held: list[Connection],
    ) -> None:
        """In a forked process: count tickets ``start`` to ``stop`` and send the count back,
        unless the process that takes it is gone (killed): then counting stops, and nothing is
        sent, since a count larger than a pipe holds would wait for a reader forever, and so
        would this process, were it holding the reading end of its own pipe or of another's, as
        forking left it."""
        for receiver in held:
            receiver.close()
        taker = os.getppid()
        try:
            count = self._count(options, at, start, stop, taker)
            if os.getppid() == taker:
                sender.send(count)
        except BaseException:
            if os.getppid() == taker:
                sender.send(traceback.format_exc())
        finally:
            sender.close()


class _TicketFields(NamedTuple):
    """A replayed ticket as its count reads it."""

    ticket: str
    fields: Mapping[str, Any]


@dataclass
class _Gathered:
    """Events gathered by ticket, packed in time order (see :mod:`slarules._history`), and
    counted as they came."""

    histories: dict[str, bytes] = field(default_factory=dict)
    events: int = 0
    duplicates: int = 0  # events whose id the ticket already had, left out
    latest: int | None = None

    def take_event(self, event: Event) -> None:
        record = Record.of(event)
        self._take(event.ticket, pack(record), record.at, event.id.encode())

    def take(self, ticket: str, packed: bytes) -> None:
        self._take(ticket, packed, *instant_and_id(packed))

    def _take(self, ticket: str, packed: bytes, at: int, event_id: bytes) -> None:
        history = self.histories.get(ticket, b"")
        if has_id(history, event_id):
            self.duplicates += 1
            return
        self.histories[ticket] = add(history, packed)
        self.events += 1
        self._saw(at)

    def _saw(self, at: int) -> None:
        if self.latest is None or at > self.latest:
            self.latest = at

    def merge(self, later: _Gathered) -> None:
        """Take what ``later`` gathered as if its events came one by one after these: its
        tickets new here keep their histories whole, and so do those whose events all come
        after and repeat none of these, nearly all of them."""
        self.events += later.events
        self.duplicates += later.duplicates
        histories = self.histories
        left_out = self.duplicates
        for ticket, history in later.histories.items():
            mine = histories.get(ticket)
            if mine is None:
                histories[ticket] = history
            elif follows(mine, history):
                histories[ticket] = mine + history  # as taking them one by one would give
            else:
                for packed in records(history):
                    self.events -= 1  # counted in later's events, and taken again here
                    self.take(ticket, packed)
        if later.latest is None:
            return
        if self.duplicates == left_out:
            self._saw(later.latest)
        else:  # the latest instant of what was taken: a repeat left out does not count
            for ticket in later.histories:
                self._saw(instant_and_id(last(histories[ticket]))[0])


@dataclass
class _Chunk:
    """What reading one chunk of an events file gave: its events gathered, its bad lines
    numbered within the chunk, and how many lines it has."""

    gathered: _Gathered
    problems: list[tuple[int, str]]
    lines: int


def _read_chunk(path: Path, start: int, stop: int) -> _Chunk:
    gathered = _Gathered()
    problems: list[tuple[int, str]] = []
    number = 0
    for number, line in enumerate(lines(path, start, stop), start=1):
        if not line.strip():
            continue
        try:
            event = Event.parse(line)
        except EventError as error:
            # A text refused as an event may be no JSON object at all: say so rather.
            problems.append((number, line_problem(line) or str(error)))
            continue
        gathered.take_event(event)
    return _Chunk(gathered, problems, number)


def _read_stored(store: Store, span: tuple[int, int]) -> _Chunk:
    gathered = _Gathered()
    problems: list[tuple[int, str]] = []
    number = 0
    for number, event in enumerate(store.events_in(span), start=1):
        try:
            gathered.take_event(Event.parse(event))
        except EventError as error:
            problems.append((number, str(error)))
    return _Chunk(gathered, problems, number)


class _Readers:
    """Forked processes that read the chunks of an events file (or the spans of a store), each
    the next chunk nobody has taken, and leave what they read in a file of the chunk's own;
    iterated, the chunks in order, each as soon as it is read (its file is deleted once it is
    taken)."""

    def __init__(self, read: Callable[[int], _Chunk], chunks: int, processes: int) -> None:
        self._chunks_in_all = chunks
        self._directory = tempfile.TemporaryDirectory(prefix="slarules-replay-")
        context = multiprocessing.get_context("fork")
        self._next = context.Value("q", 0)  # the first chunk no process has taken
        self._read: set[int] = set()
        self._processes: list[BaseProcess] = []
        self._listening: list[Connection] = []  # to the processes with chunks still to read
        for _ in range(processes):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=self._work, args=(read, sender), daemon=True)
            process.start()
            sender.close()
            self._processes.append(process)
            self._listening.append(receiver)

    def __enter__(self) -> Iterator[_Chunk]:
        return self._chunks()

    def __exit__(self, *exception: object) -> None:
        for receiver in self._listening:
            receiver.close()
        for process in self._processes:
            process.kill()  # done already, unless the replay stopped short
            process.join()
        self._directory.cleanup()

    def _chunks(self) -> Iterator[_Chunk]:
        for index in range(self._chunks_in_all):
            while index not in self._read:
                self._wait()
            self._read.remove(index)
            file = self._file(index)
            with file.open("rb") as read:
                yield pickle.load(read)
            file.unlink()

    def _wait(self) -> None:
        """Until a process says it has read a chunk (or has none left)."""
        if not self._listening:
            raise SlaRulesError("the processes reading the events ended with chunks unread")
        for receiver in multiprocessing.connection.wait(self._listening):
            assert isinstance(receiver, Connection)
            try:
                message = receiver.recv()
            except EOFError:
                message = "it ended before it had read its chunk"
            if isinstance(message, str):
                raise SlaRulesError(f"a process reading the events failed: {message}")
            if message is None:  # finished: listen to the others
                self._listening.remove(receiver)
                receiver.close()
            else:
                self._read.add(message)

    def _file(self, index: int) -> Path:
        return Path(self._directory.name) / f"{index}.pickle"

    def _work(self, read: Callable[[int], _Chunk], sender: Connection) -> None:
        """In a forked process: read chunks until none is left, or until the process that
        takes them is gone (killed): then nobody would take the chunks, nor delete them."""
        taker = os.getppid()
        try:
            while (index := self._take_next()) is not None:
                chunk = read(index)
                if os.getppid() != taker:
                    return
                with self._file(index).open("wb") as file:
                    pickle.dump(chunk, file, protocol=pickle.HIGHEST_PROTOCOL)
                sender.send(index)
            sender.send(None)
        except BaseException:
            if os.getppid() == taker:
                sender.send(traceback.format_exc())
        finally:
            sender.close()
            if os.getppid() != taker:
                shutil.rmtree(self._directory.name, ignore_errors=True)

    def _take_next(self) -> int | None:
        with self._next.get_lock():
            index = int(self._next.value)
            if index >= self._chunks_in_all:
                return None
            self._next.value = index + 1
            return index


def _chunk_for(size: int, jobs: int, smallest: int, largest: int) -> int:
    """How much of ``size`` (bytes of a file, events of a store) to read at a time. A ticket's
    events spread over every chunk its life spans, and each chunk costs this process a merge
    for each of its tickets: a file of a million tickets, in chunks of 8 MiB, kept it merging
    for most of the reading. So chunks grow with the whole, from ``smallest`` to ``largest``,
    leaving a dozen or so for each process to share out evenly, and a progress bar that moves."""
    return min(max(smallest, size // (12 * max(jobs, 1))), largest)


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
