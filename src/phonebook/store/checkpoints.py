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
# Upkeep waits for writes to pause this long: during a burst each merge step, in
# the writers' turn, cost the writes 13-22% more CPU and a higher p99.
UPKEEP_QUIET_S: Final = 1.0


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

    The same thread runs the database's upkeep (merging the lookup index)
    once writes have paused, so that it never competes with a burst of them.
    """

    def __init__(
        self,
        engine: Engine,
        turn: Callable[[], AbstractContextManager[None]],
        upkeep: Callable[[], bool] | None = None,
        quiet_s: float = UPKEEP_QUIET_S,
    ) -> None:
        self._engine = engine
        self._turn = turn
        # Once writes have paused for quiet_s, steps of upkeep (true while more is
        # left), _PAUSE_S apart; a commit puts the rest off until the next pause.
        self._upkeep = upkeep
        self._quiet_s = quiet_s
        self._upkeep_due: float | None = None  # None: nothing written since the last upkeep
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
            written = self._wanted.wait(self._until_upkeep())
            if self._stopping.is_set():
                return
            try:
                if written:
                    self._wanted.clear()
                    if self._upkeep is not None:
                        self._upkeep_due = time.monotonic() + self._quiet_s
                elif self._upkeep is not None and not self._upkeep():
                    self._upkeep_due = None  # all done until the next writes
                # After upkeep too: its steps write as well.
                with self._turn() if frames > _RESTART_FRAMES else nullcontext():
                    frames = self.checkpoint()
            except Exception:  # the thread must outlive any one failure: retried next round
                log.exception("WAL checkpoint or upkeep failed")
                self._wanted.set()
            if self._stopping.wait(_PAUSE_S):
                return

    def _until_upkeep(self) -> float | None:
        """How long to wait for writes before a step of upkeep is due; None: for ever."""
        if self._upkeep_due is None:
            return None
        return max(0.0, self._upkeep_due - time.monotonic())

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
