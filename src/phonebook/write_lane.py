"""Where write use cases run, and on SQLite how they commit together.

A durable commit waits for fsync (synchronous=FULL, 150-900 us here); on the
event loop that wait would stall every read in the process. So the waits
happen on worker threads:

- PostgreSQL: a thread pool as large as the connection pool; the server
  handles concurrency itself.
- SQLite: one writer thread, since SQLite takes one writer at a time. It
  takes every write waiting in its queue (up to BATCH), has each use case run
  in its own SAVEPOINT inside one transaction, commits once, and only then
  answers them all, before it hands the writers' turn on. One fsync serves the
  batch; each use case still succeeds or fails alone (a failed one rolls back
  to its savepoint); nothing is acknowledged before it is durable.

  The thread waits for the writers' turn, begins and commits (SQLite's waits
  and the fsync, with the GIL released); the use cases themselves run on the
  event loop that submitted them, while the thread waits. They never wait on
  a lock there (the transaction already holds the write lock) and the
  statement limit bounds them. On the writer thread each statement handed the
  GIL back and forth with the loop; measured A/B with 2 workers, running them
  on the loop gave 6-16% more creates and updates a second and cut the mix's
  p99 by a quarter (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import Connection

from phonebook.store.database import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
BATCH: Final = 64


class WriteLane(Protocol):
    async def run(self, use_case: Callable[..., T], *args: Any) -> T: ...

    def close(self) -> None: ...


class ThreadLane:
    """Writes on a bounded pool of worker threads, one transaction each."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, use_case: Callable[..., T], *args: Any) -> T:
        if self._limiter is None:  # made on first use: it belongs to the running loop
            self._limiter = anyio.CapacityLimiter(self.threads)
        return await anyio.to_thread.run_sync(use_case, *args, limiter=self._limiter)

    def close(self) -> None:
        """Nothing to stop: anyio owns the threads."""


@dataclass(slots=True)
class _Job:
    use_case: Callable[..., Any]
    args: tuple[Any, ...]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None


class GroupCommitLane:
    """One writer thread committing queued writes together (SQLite)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closing = False

    async def run(self, use_case: Callable[..., T], *args: Any) -> T:
        self._ensure_started()
        loop = asyncio.get_running_loop()
        job = _Job(use_case, args, loop, loop.create_future())
        self._queue.put(job)
        result: T = await job.future
        return result

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._serve, name="phonebook-writer", daemon=True
                    )
                    self._thread.start()

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            self._commit_group(first)
            self.database.after_commit()

    def _commit_group(self, first: _Job) -> None:
        """first and the writes queued behind it: one COMMIT, answered before the turn passes on."""
        jobs = [first]
        answered = False

        def answer() -> None:  # committed, so durable; the turn not yet handed over
            nonlocal answered
            answered = True
            _settle(jobs)

        try:
            # The pooled connection first, then the writers' turn and BEGIN
            # (Database.writing): the checkout no longer holds up the turn.
            with self.database.group_commit(committed=answer) as group:
                # Writes queued while another process had its turn join this group.
                jobs.extend(self._queued(BATCH - 1))
                self._run_group(group, jobs)
        except Exception as exc:  # taking the turn, BEGIN or COMMIT failed: answer, live on
            if answered:  # only handing the turn or the connection back failed
                log.exception("after a committed group of writes")
                return
            for job in jobs:
                job.error = job.error or exc
            _settle(jobs)

    def _queued(self, at_most: int) -> list[_Job]:
        """The writes waiting in the queue now, up to at_most of them."""
        jobs: list[_Job] = []
        while len(jobs) < at_most:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                self._queue.put(None)  # stop after this batch
                break
            jobs.append(more)
        return jobs

    def _run_group(self, group: Connection, jobs: list[_Job]) -> None:
        for loop, theirs in _by_loop(jobs).items():
            try:
                self._run_on(loop, _OnLoop(self._run_jobs, group, theirs))
            except _NeverRanError as exc:  # their loop is gone; the others' writes stand
                for job in theirs:
                    job.error = exc

    def _run_on(self, loop: asyncio.AbstractEventLoop, work: _OnLoop) -> None:
        """work on loop, returning once it has run; _NeverRanError if it never will.

        close() may be waiting for this thread on that very loop (a lifespan
        shutdown with writes still queued), or the loop may have stopped: then
        the work is cancelled, so that it cannot run later, outside the
        transaction, and the turn is not held for ever.
        """
        try:
            loop.call_soon_threadsafe(work)
        except RuntimeError as exc:  # the loop is closed
            raise _NeverRanError("the app shut down before these writes ran") from exc
        while not work.done.wait(0.05):
            gone = self._closing or loop.is_closed() or not loop.is_running()
            if gone and work.cancel():
                raise _NeverRanError("the app shut down before these writes ran")
        if work.failed is not None:  # not an Exception, and mid-group: nothing may commit
            raise RuntimeError("a write use case was interrupted") from work.failed

    def _run_jobs(self, group: Connection, jobs: list[_Job]) -> None:
        """On the jobs' event loop, while this lane's thread waits for it."""
        with self.database.joining(group):
            for job in jobs:
                try:
                    job.result = job.use_case(*job.args)
                except Exception as exc:
                    job.error = exc

    def close(self) -> None:
        self._closing = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)


def _by_loop(jobs: list[_Job]) -> dict[asyncio.AbstractEventLoop, list[_Job]]:
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job in jobs:
        by_loop.setdefault(job.loop, []).append(job)
    return by_loop


class _NeverRanError(RuntimeError):
    """Use cases that never ran: their loop stopped or the app shut down."""


class _OnLoop:
    """work(*args), called once on an event loop, unless cancelled before it starts."""

    def __init__(self, work: Callable[..., None], *args: Any) -> None:
        self._work, self._args = work, args
        self._lock = threading.Lock()
        self._state = "waiting"  # then "running" or "cancelled"
        self.done = threading.Event()
        self.failed: BaseException | None = None  # what escaped the work, if anything

    def __call__(self) -> None:
        with self._lock:
            if self._state == "cancelled":
                return
            self._state = "running"
        try:
            self._work(*self._args)
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: the loop's to handle
            self.failed = exc
            raise
        finally:
            self.done.set()

    def cancel(self) -> bool:
        """Whether it was cancelled in time; once running, it runs to the end."""
        with self._lock:
            if self._state == "waiting":
                self._state = "cancelled"
            return self._state == "cancelled"


def _settle(jobs: list[_Job]) -> None:
    """One wake-up per event loop for the whole batch, not one per job."""
    for loop, settled in _by_loop(jobs).items():
        try:
            loop.call_soon_threadsafe(_settle_all, settled)
        except RuntimeError:  # that loop is closed: nobody is left to answer
            continue


def _settle_all(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.cancelled():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


def lane_for(database: Database, threads: int) -> WriteLane:
    return GroupCommitLane(database) if database.is_sqlite else ThreadLane(threads)
