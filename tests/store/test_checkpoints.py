"""The served app checkpoints the WAL from a thread of its own, never inside a COMMIT."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from phonebook.app import build_app
from phonebook.settings import Settings
from phonebook.store.database import Database
from phonebook.write_lane import GroupCommitLane

pytestmark = pytest.mark.sqlite_only


def autocheckpoint(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def write_rows(database: Database, count: int) -> None:
    with database.writing() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS filler (body TEXT)"))
        for _ in range(count):
            conn.execute(text("INSERT INTO filler VALUES (:body)"), {"body": "x" * 2000})


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[Database, str]]:
    """A database as the served app sets it up, and its file's path."""
    database = Database(database_url)
    database.coordinate_writers()
    assert database.url.database is not None
    yield database, database.url.database
    database.dispose()


def wait_for_the_file_to_grow(path: str, size: int) -> None:
    deadline = time.monotonic() + 10
    while os.path.getsize(path) == size:  # a condition, polled: the pages reach the file
        assert time.monotonic() < deadline, "no checkpoint ran"
        time.sleep(0.01)


def test_cli_connections_keep_sqlites_automatic_checkpoint(database_url: str) -> None:
    database = Database(database_url)
    assert autocheckpoint(database) == 1000
    database.dispose()


def test_the_app_checkpoints_after_commits_and_never_inside_them(
    served: tuple[Database, str],
) -> None:
    database, path = served
    assert autocheckpoint(database) == 0  # a COMMIT never checkpoints
    size = os.path.getsize(path)
    write_rows(database, 3000)  # ~6 MB: past 1,000 pages, in the WAL only
    assert os.path.getsize(path) == size, "a commit checkpointed"
    database.after_commit()
    wait_for_the_file_to_grow(path, size)


def test_the_served_app_turns_the_background_checkpoints_on(database_url: str) -> None:
    database = Database(database_url)
    build_app(Settings(database_url=database_url), database)
    assert autocheckpoint(database) == 0
    database.dispose()


def test_the_write_lane_wakes_the_checkpointer(served: tuple[Database, str]) -> None:
    database, path = served
    size = os.path.getsize(path)
    lane = GroupCommitLane(database)

    def fill() -> None:
        write_rows(database, 3000)

    asyncio.run(lane.run(fill))
    wait_for_the_file_to_grow(path, size)
    lane.close()


def test_the_wal_stays_bounded_under_writers_that_never_pause(
    served: tuple[Database, str],
) -> None:
    """A PASSIVE checkpoint alone never catches up; the WAL would grow without end."""
    database, path = served
    write_rows(database, 1)
    largest = 0

    def writer() -> None:
        for _ in range(1500):
            with database.writing() as conn:
                conn.execute(text("INSERT INTO filler VALUES (:body)"), {"body": "y" * 20_000})
            database.after_commit()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        largest = max(largest, os.path.getsize(f"{path}-wal"))
        threads[0].join(timeout=0.01)
    for thread in threads:
        thread.join()
    # 3,000 commits of ~6 pages: ~70 MB of WAL if it never restarted.
    assert largest < 32 * 1024 * 1024, f"the WAL grew to {largest / 1e6:.0f} MB"


class FailingTurn:
    def __enter__(self) -> None:
        raise OSError(24, "Too many open files")

    def __exit__(self, *_: Any) -> None:
        return None


def test_the_write_lane_survives_a_turn_it_could_not_take(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(database_url)
    lane = GroupCommitLane(database)
    failures = iter([True])
    real_turn = database.writer_turn

    def flaky_turn() -> Any:
        return FailingTurn() if next(failures, False) else real_turn()

    monkeypatch.setattr(database, "writer_turn", flaky_turn)

    async def two_writes() -> tuple[object, object]:
        # Bounded: a dead writer thread would leave both waiting forever.
        first = await asyncio.gather(
            asyncio.wait_for(lane.run(lambda: "one"), 10), return_exceptions=True
        )
        second = await asyncio.wait_for(lane.run(lambda: "two"), 10)
        return first[0], second

    first, second = asyncio.run(two_writes())
    assert isinstance(first, OSError)
    assert second == "two"
    lane.close()
    database.dispose()
