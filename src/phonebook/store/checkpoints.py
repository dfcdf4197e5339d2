"""The served app's WAL checkpoints, from a thread of their own."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Final

from sqlalchemy import Engine

log = logging.getLogger(__name__)

# At most this many checkpoints a second: each one fsyncs the database file.
_PAUSE_S: Final = 0.1
# WAL frames beyond which the next checkpoint holds the writers' turn (SQLite's
# automatic checkpoint starts at 1,000 pages).
_RESTART_FRAMES: Final = 1000
# Upkeep that found nothing to do waits this long (and for a commit) to look again.
_UPKEEP_IDLE_S: Final = 1.0


class Checkpointer:
    """Copies the WAL into the database file off the write path.

    SQLite checkpoints automatically inside the COMMIT that takes the WAL past
    1,000 pages: that writer, its turn held, copies the pages and fsyncs the
    database file. Measured with 2 workers at 16 connections: commits of
    27-153 ms, five in a 5 s run, each stalling both processes' writes. The
    app's connections turn the automatic checkpoint off
    (Database.coordinate_writers); this thread runs a PASSIVE checkpoint after
    writes, which neither waits for nor blocks writers and readers.

    SQLite restarts the WAL from its start only when a writer begins after a
    checkpoint has copied every frame; with writers that keep appending while a
    PASSIVE checkpoint runs, that never happens: the file grew to 256 MB in 2 s
    of steady writes. So once the WAL holds more than _RESTART_FRAMES, the next
    checkpoint runs holding the writers' turn: it copies what was added since
    the last one, and the next writer restarts the WAL.
    """

    def __init__(
        self,
        engine: Engine,
        turn: Callable[[], AbstractContextManager[None]],
        upkeep: Callable[[], bool] | None = None,
    ) -> None:
        self._engine = engine
        self._turn = turn
        # After writes, one step of index upkeep at a time, true while more is left:
        # steps follow each other _PAUSE_S apart, letting writers in between.
        self._upkeep = upkeep
        self._upkeep_at = 0.0
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="phonebook-checkpoint", daemon=True)
        self._thread.start()

    def after_commit(self) -> None:
        """Writes were committed: checkpoint soon."""
        self._wanted.set()

    def _run(self) -> None:
        frames = 0
        while True:
            self._wanted.wait()
            if self._stopping.is_set():
                return
            self._wanted.clear()
            try:
                with self._turn() if frames > _RESTART_FRAMES else nullcontext():
                    frames = self.checkpoint()
                self._keep_up()
            except Exception:  # the thread must outlive any one failure: retried next round
                log.exception("WAL checkpoint failed")
                self._wanted.set()
            if self._stopping.wait(_PAUSE_S):
                return

    def _keep_up(self) -> None:
        if self._upkeep is None or time.monotonic() < self._upkeep_at:
            return
        more = self._upkeep()
        self._upkeep_at = time.monotonic() + (0.0 if more else _UPKEEP_IDLE_S)
        if more:  # no commit needed to go on: the next round comes after the pause
            self._wanted.set()

    def checkpoint(self) -> int:
        """One PASSIVE checkpoint; the number of frames in the WAL."""
        with self._engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            _busy, frames, _copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames)

    def close(self) -> None:
        self._stopping.set()
        self._wanted.set()
        self._thread.join(timeout=30)
