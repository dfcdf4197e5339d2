"""The served app's WAL checkpoints, from a thread of their own."""

from __future__ import annotations

import threading
from typing import Final

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

# At most this many checkpoints a second: each one fsyncs the database file.
_PAUSE_S: Final = 0.1


class Checkpointer:
    """Copies the WAL into the database file (PASSIVE) off the write path.

    SQLite checkpoints automatically inside the COMMIT that takes the WAL past
    1,000 pages: that writer, its turn held, copies the pages and fsyncs the
    database file. Measured with 2 workers at 16 connections: commits of
    27-153 ms, five in a 5 s run, each stalling both processes' writes. The
    app's connections turn the automatic checkpoint off (Database.
    checkpoint_in_background); this thread runs a PASSIVE checkpoint after
    writes, which never waits for or blocks a writer or a reader. CLI commands
    keep SQLite's automatic checkpoint.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="phonebook-checkpoint", daemon=True)
        self._thread.start()

    def after_commit(self) -> None:
        """Writes were committed: checkpoint soon."""
        self._wanted.set()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._stopping.is_set():
                return
            self._wanted.clear()
            self.checkpoint()
            if self._stopping.wait(_PAUSE_S):
                return

    def checkpoint(self) -> None:
        """One PASSIVE checkpoint; a failed one is left to the next round."""
        driver_error = self._engine.dialect.loaded_dbapi.Error
        try:
            with self._engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                assert raw is not None
                raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except (DBAPIError, driver_error):
            return

    def close(self) -> None:
        self._stopping.set()
        self._wanted.set()
        self._thread.join(timeout=30)
