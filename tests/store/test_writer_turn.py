"""Writers of one SQLite file take turns on `<file>-writer`, across processes."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from phonebook.store.database import Database
from phonebook.store.writer_turn import WriterTurn, sqlite_file

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no flock on Windows")

if sys.platform != "win32":
    import fcntl


@contextmanager
def other_process_view(path: str) -> Iterator[int]:
    """A descriptor of its own on the lock file, as another process would hold."""
    with open(path, "a+b") as handle:
        yield handle.fileno()


def turn_is_taken(path: str) -> bool:
    with other_process_view(path) as fd:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False


def test_a_turn_holds_the_lock_file_until_the_outermost_turn_ends(tmp_path: Path) -> None:
    database = str(tmp_path / "x.db")
    turn = WriterTurn(database)
    lock = f"{database}-writer"
    with turn():
        assert turn_is_taken(lock)
        with turn():  # re-entrant: a use case's write inside the lane's group
            assert turn_is_taken(lock)
        assert turn_is_taken(lock)
    assert not turn_is_taken(lock)
    turn.close()


def waiters_on(path: str) -> int:
    """Blocked flock() requests on the file, as /proc/locks lists them ("->")."""
    inode = f":{os.stat(path).st_ino} "
    locks = Path("/proc/locks").read_text().splitlines()
    return sum(1 for line in locks if "->" in line and inode in line)


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks")
def test_a_writer_waiting_for_the_turn_holds_the_place_in_line(tmp_path: Path) -> None:
    """So the writer that just finished queues behind it instead of taking the turn again."""
    database = str(tmp_path / "x.db")
    lock, line = f"{database}-writer", f"{database}-writer-queue"
    turn = WriterTurn(database)
    with turn():
        assert not turn_is_taken(line)  # nobody waiting: the line is free
    wrote = threading.Event()

    def write() -> None:
        with turn():
            wrote.set()

    with other_process_view(lock) as fd:  # another process has the turn
        fcntl.flock(fd, fcntl.LOCK_EX)
        writer = threading.Thread(target=write)
        writer.start()
        deadline = time.monotonic() + 10
        while waiters_on(lock) == 0:  # a condition, polled: the writer is waiting
            assert time.monotonic() < deadline, "the writer never waited for its turn"
            time.sleep(0.001)
        assert turn_is_taken(line)  # the other process, done, would queue behind it
        assert not wrote.is_set()
        fcntl.flock(fd, fcntl.LOCK_UN)
    writer.join(timeout=10)
    assert wrote.is_set()
    assert not turn_is_taken(line)
    turn.close()


@pytest.mark.sqlite_only
def test_cli_writes_do_not_take_the_turn(database_url: str) -> None:
    """They may run long (optimize, seed): they wait on SQLite's lock, which times out."""
    database = Database(database_url)
    lock = f"{sqlite_file(database.url.database)}-writer"
    with database.writing() as conn:
        conn.execute(text("SELECT 1"))
        assert not Path(lock).exists() or not turn_is_taken(lock)
    database.dispose()


@pytest.mark.sqlite_only
def test_a_write_transaction_of_the_served_app_takes_the_turn(database_url: str) -> None:
    database = Database(database_url)
    database.coordinate_writers()
    lock = f"{sqlite_file(database.url.database)}-writer"
    with database.writing() as conn:
        conn.execute(text("SELECT 1"))
        assert turn_is_taken(lock)
    assert not turn_is_taken(lock)
    with database.reading() as conn:  # readers never wait for a writer's turn
        conn.execute(text("SELECT 1"))
        assert not turn_is_taken(lock)
    database.dispose()


@pytest.mark.parametrize("name", [None, "", ":memory:", "file:x.db?mode=memory"])
def test_no_lock_file_without_a_plain_database_file(name: str | None) -> None:
    assert sqlite_file(name) is None


def test_a_plain_database_file_gets_a_lock_file(tmp_path: Path) -> None:
    assert sqlite_file(str(tmp_path / "x.db")) == str(tmp_path / "x.db")
