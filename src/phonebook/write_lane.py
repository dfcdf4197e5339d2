"""Where write use cases run: off the event loop, and on SQLite in group commits.

A durable commit waits for fsync (synchronous=FULL, about 150 us here); on the
event loop that wait would stall every read in the process. So writes run on
worker threads:

- PostgreSQL: a thread pool as large as the connection pool; the server
  handles concurrency itself.
- SQLite: one writer thread, since SQLite takes one writer at a time. It
  takes every write waiting in its queue (up to BATCH), runs each use case in
  its own SAVEPOINT inside one transaction, commits once, and only then answers
  them all. One fsync serves the batch; each use case still succeeds or fails
  alone (a failed one rolls back to its savepoint); nothing is acknowledged
  before it is durable.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import anyio
import anyio.to_thread

from phonebook.store.database import Database

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
            jobs = [first]
            try:
                # Writes queued while another process had its turn join this group.
                with self.database.writer_turn():
                    jobs = self._batch(first)
                    self._commit(jobs)
            except Exception as exc:  # taking the turn failed: answer, and live on
                for job in jobs:
                    job.error = job.error or exc
            _settle(jobs)
            self.database.after_commit()

    def _batch(self, first: _Job) -> list[_Job]:
        jobs = [first]
        while len(jobs) < BATCH:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                self._queue.put(None)  # stop after this batch
                break
            jobs.append(more)
        return jobs

    def _commit(self, jobs: list[_Job]) -> None:
        try:
            with self.database.group_commit():
                for job in jobs:
                    try:
                        job.result = job.use_case(*job.args)
                    except Exception as exc:
                        job.error = exc
        except Exception as exc:
            for job in jobs:
                job.error = job.error or exc

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)


def _settle(jobs: list[_Job]) -> None:
    """One wake-up per event loop for the whole batch, not one per job."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job in jobs:
        by_loop.setdefault(job.loop, []).append(job)
    for loop, settled in by_loop.items():
        loop.call_soon_threadsafe(_settle_all, settled)


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
