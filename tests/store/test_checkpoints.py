"""The served app checkpoints the WAL from a thread of its own, never inside a COMMIT."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import text

from phonebook.app import build_app
from phonebook.settings import Settings
from phonebook.store.database import Database

pytestmark = pytest.mark.sqlite_only


def autocheckpoint(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def write_rows(database: Database, count: int) -> None:
    with database.writing() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS filler (body TEXT)"))
        for _ in range(count):
            conn.execute(text("INSERT INTO filler VALUES (:body)"), {"body": "x" * 2000})


def test_cli_connections_keep_sqlites_automatic_checkpoint(database_url: str) -> None:
    database = Database(database_url)
    assert autocheckpoint(database) == 1000
    database.dispose()


def test_the_app_checkpoints_after_commits_and_never_inside_them(database_url: str) -> None:
    database = Database(database_url)
    path = database.url.database
    assert path is not None
    database.checkpoint_in_background()
    assert autocheckpoint(database) == 0  # a COMMIT never checkpoints

    size = os.path.getsize(path)
    write_rows(database, 3000)  # ~6 MB: past 1,000 pages, in the WAL only
    assert os.path.getsize(path) == size, "a commit checkpointed"

    database.after_commit()
    deadline = time.monotonic() + 10
    while os.path.getsize(path) == size:  # a condition, polled: the pages reach the file
        assert time.monotonic() < deadline, "the background checkpoint never ran"
        time.sleep(0.01)
    database.dispose()


def test_the_served_app_turns_the_background_checkpoints_on(database_url: str) -> None:
    database = Database(database_url)
    build_app(Settings(database_url=database_url), database)
    assert autocheckpoint(database) == 0
    database.dispose()
