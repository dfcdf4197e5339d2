"""Writers of one SQLite file, in every process, take turns on a kernel lock."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

if sys.platform != "win32":
    import fcntl


class WriterTurn:
    """A thread's turn to write to one SQLite file: a re-entrant lock across processes.

    Several worker processes each run a writer thread. SQLite's busy handler makes
    a waiting writer poll with sleeps that grow to 100 ms, so two processes that
    write without pause starve each other: measured with 2 workers, POST p99 over
    a second and requests failing after the 5 s busy timeout. A blocking flock()
    on `<database>-writer` queues them in the kernel instead, which wakes the
    waiter as soon as the lock is freed. Only the served app's writers take
    turns here (Database.coordinate_writers); CLI commands and other tools, whose
    writes may run long, wait on SQLite's own lock, where a server writer waits
    at most busy_timeout before answering 503.

    The kernel wakes the waiter, but the writer that just finished, its next
    group already queued, would usually take the lock again first, turn after
    turn (waits of 20-60 ms seen). So a writer first takes `<database>-writer-queue`
    and holds it while it waits for the turn: the one that just finished queues
    behind it, and two busy processes alternate.

    A process that dies releases its flock with its descriptors. On Windows (no
    flock) and for in-memory databases only the in-process lock is taken.
    """

    def __init__(self, database_path: str | None) -> None:
        self._path = f"{database_path}-writer" if database_path else None
        self._lock = threading.RLock()  # threads of this process; re-entrant for nesting
        self._depth = 0
        self._fd: int | None = None  # the turn
        self._queue_fd: int | None = None  # the one place in line for it

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            self._depth += 1
            outermost = self._depth == 1
            try:
                if outermost:
                    self._acquire()
                try:
                    yield
                finally:
                    if outermost:
                        self._release()
            finally:
                self._depth -= 1

    def _acquire(self) -> None:
        if self._path is None or sys.platform == "win32":
            return
        # Read-only: flock needs no more, and a lock file created by another
        # user (a CLI run as root) still opens.
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDONLY | os.O_CREAT, 0o644)
        if self._queue_fd is None:
            self._queue_fd = os.open(f"{self._path}-queue", os.O_RDONLY | os.O_CREAT, 0o644)
        fcntl.flock(self._queue_fd, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        finally:
            fcntl.flock(self._queue_fd, fcntl.LOCK_UN)

    def _release(self) -> None:
        if self._fd is not None and sys.platform != "win32":
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock files; a later turn opens them again.

        Not while a thread of this process waits for or holds the turn (a
        writer stuck at shutdown): the files then close with the process.
        """
        if not self._lock.acquire(blocking=False):
            return
        try:
            for fd in (self._fd, self._queue_fd):
                if fd is not None:
                    os.close(fd)
            self._fd = self._queue_fd = None
        finally:
            self._lock.release()


def sqlite_file(database: str | None) -> str | None:
    """The path of an SQLite database file, or None for an in-memory or URI database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database
