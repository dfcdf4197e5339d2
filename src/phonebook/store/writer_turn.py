"""Writers of one SQLite file, in every process, take turns on a kernel lock."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

if sys.platform != "win32":
    import fcntl

# How long a writer that had to wait for its turn stays away after it. Without
# it, the writer that just finished takes the lock again before the woken one
# is scheduled, turn after turn: measured with 2 workers at 16 connections
# (make bench, create, three rounds), POST p99 15-233 ms without the pause and
# 9-39 ms with it, and 2,520-3,317 against 3,156-3,361 creates/s. Its own
# queue meanwhile fills the next group.
HANDOVER_PAUSE_S = 0.0003


class WriterTurn:
    """A thread's turn to write to one SQLite file: a re-entrant lock across processes.

    Several worker processes each run a writer thread. SQLite's busy handler makes
    a waiting writer poll with sleeps that grow to 100 ms, so two processes that
    write without pause starve each other: measured with 2 workers, POST p99 over
    a second and requests failing after the 5 s busy timeout. A blocking flock()
    on `<database>-writer` queues them in the kernel instead, which wakes the
    waiter as soon as the lock is freed. SQLite's own lock still guards the file
    against writers that don't take turns here (another tool, a CLI command).

    A process that dies releases its flock with its descriptors. On Windows (no
    flock) and for in-memory databases only the in-process lock is taken.
    """

    def __init__(self, database_path: str | None) -> None:
        self._path = f"{database_path}-writer" if database_path else None
        self._lock = threading.RLock()  # threads of this process; re-entrant for nesting
        self._depth = 0
        self._fd: int | None = None
        self._contended = False

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
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._contended = False
        except BlockingIOError:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._contended = True

    def hand_over(self) -> bool:
        """After a turn that had to wait for another process, let that one go next."""
        if not self._contended:
            return False
        self._contended = False
        time.sleep(HANDOVER_PAUSE_S)
        return True

    def _release(self) -> None:
        if self._fd is not None and sys.platform != "win32":
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock file; a later turn opens it again."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def sqlite_file(database: str | None) -> str | None:
    """The path of an SQLite database file, or None for an in-memory or URI database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database
