"""Engines and transactions: reads, one transaction per write, group commits, the writers' turn."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from phonebook.settings import Settings
from phonebook.store import digit_index
from phonebook.store.checkpoints import Checkpointer
from phonebook.store.connections import (
    READ,
    WRITE,
    Serving,
    TimedSqliteConnection,
    configure_postgresql,
    configure_sqlite,
    sqlite3,
)
from phonebook.store.fast_reads import FastReads
from phonebook.store.writer_turn import WriterTurn, sqlite_file


class Database:
    """One engine and the two ways the service layer uses it: read, or write in one transaction."""

    def __init__(
        self,
        url: str,
        *,
        sqlite_busy_timeout_ms: int = 5000,
        pool_size: int = 5,
        read_threads: int = 4,
    ) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._serving = Serving()
        self._checkpoints: Checkpointer | None = None
        # Beyond pool_size (writes, and bursts as large again): each read thread may
        # hold its FastReads connection and check out one more, and so may the event
        # loop's thread. Short of that, a checkout would wait out the pool timeout.
        overflow = pool_size + 2 * (read_threads + 1)
        if self.is_sqlite:
            self.engine: Engine = create_engine(
                self.url,
                module=sqlite3,
                connect_args={"factory": TimedSqliteConnection},
                pool_size=pool_size,
                max_overflow=overflow,
                # The connection used last has the warmest page cache: SQLite drops a
                # connection's cache whenever another one has written since. Taken in
                # turn (FIFO), each write began on the stalest one: a create's INSERT
                # took 63 us against 45 in one process (docs/performance.md). Two
                # worker processes writing in turn still start each other cold.
                pool_use_lifo=True,
            )
            configure_sqlite(self.engine, sqlite_busy_timeout_ms, self._serving)
        else:
            # pre_ping: a server restart costs one failed check, not a failed request.
            self.engine = create_engine(
                self.url, pool_size=pool_size, max_overflow=overflow, pool_pre_ping=True
            )
            configure_postgresql(self.engine, self._serving)
        self.fast = FastReads(self.engine)
        self._group = threading.local()
        self._turn: WriterTurn | None = None  # coordinate_writers()

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            settings.database_url,
            sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            pool_size=settings.database_pool_size,
            read_threads=settings.read_threads,
        )

    def limit_statements(self, milliseconds: int) -> None:
        """Cancel any later statement running longer than this (0: no limit).

        The served app sets it (build_app); migrations and CLI commands, which
        may rightly run long, leave it off. A cancelled statement raises
        OperationalError: "interrupted" on SQLite, QueryCanceled on PostgreSQL.
        """
        self._serving.milliseconds = max(0, int(milliseconds))

    def coordinate_writers(self) -> None:
        """For the served app on an SQLite file: writers take turns, checkpoints run apart.

        The writer threads of all worker processes take turns (WriterTurn), and
        WAL checkpoints run from a thread of their own (Checkpointer) instead of
        inside COMMITs. Called before serving: connections opened afterwards
        turn SQLite's automatic checkpoint off, and idle pooled ones are closed.
        CLI commands don't call it: their writes, which may run long, wait on
        SQLite's own lock, where a server writer waits at most busy_timeout.
        """
        path = sqlite_file(self.url.database) if self.is_sqlite else None
        if path is None or self._turn is not None:
            return
        self._turn = WriterTurn(path)
        self._serving.background_checkpoints = True
        self.engine.dispose()
        self._checkpoints = Checkpointer(
            self.engine, self.writer_turn, upkeep=self.merge_lookup_index
        )

    def merge_lookup_index(self) -> bool:
        """One step of the SQLite lookup index's upkeep; whether it did any work.

        Run by the served app's checkpoint thread once writes pause, in the
        writers' turn. The notes the writes left below NOTES_PER_APPLY are
        applied (migration 0007), so lookups stop checking them; then segments
        are merged: a lookup probes every segment, so fewer of them keep
        lookups fast after bursts of writes (migration 0006).
        """
        with self.writing() as conn:
            applied = digit_index.apply_notes(conn, at_least=1)
            return digit_index.merge_step(conn) or applied

    def after_commit(self) -> None:
        """Writes were committed (the write lane calls it once per group)."""
        if self._checkpoints is not None:
            self._checkpoints.after_commit()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads; on SQLite each statement sees the latest commit."""
        with self.engine.connect() as conn:
            yield conn.execution_options(**{READ: True})

    @contextmanager
    def writing(self, committed: Callable[[], None] | None = None) -> Iterator[Connection]:
        """One transaction, committed on success and rolled back on any exception.

        On SQLite it begins IMMEDIATE: the write lock is taken up front, so two
        writers queue on busy_timeout instead of failing to upgrade a read lock.
        Inside group_commit() on the same thread it is a SAVEPOINT of the group's
        transaction instead: all or nothing for this use case, durable with the group.

        committed() runs once the transaction has committed, before the writers'
        turn passes on (see group_commit); never for a SAVEPOINT, which commits nothing.
        """
        group: Connection | None = getattr(self._group, "conn", None)
        if group is not None:
            if committed is not None:
                raise ValueError("committed() needs a transaction of its own, not a savepoint")
            self._group_intact(group)
            with _savepoint(group):
                yield group
            return
        # The connection first: a wait for the pool must not hold the turn.
        with self.engine.connect() as conn, self.writer_turn():
            conn = conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn
                if self.is_sqlite:
                    digit_index.apply_notes(conn)
            if committed is not None:
                committed()

    def writer_turn(self) -> AbstractContextManager[None]:
        """The served app on SQLite: this thread's turn to write, among all processes.

        Never on an event loop: the write lane's thread holds the turn while it
        waits for the loop to run its group's use cases, so a loop waiting for
        the turn would wait for ever. Writes reach the served app's database
        through its write lane.
        """
        if self._turn is None:
            return nullcontext()
        if _on_event_loop():
            raise RuntimeError("a write on the event loop: run it on the app's write lane")
        return self._turn()

    @contextmanager
    def group_commit(self, committed: Callable[[], None] | None = None) -> Iterator[Connection]:
        """One transaction that the writing() blocks of this thread join, one commit.

        committed() runs right after that commit, while this thread still holds
        the writers' turn: the write lane answers its group there. Handing the
        turn over wakes the next writer, which the kernel runs first; answered
        after it, a group's answers left 0.12-0.18 ms after COMMIT, and fewer
        of the requests that follow them reached this process's next group
        (docs/performance.md, session 10).
        """
        with self.writing(committed) as conn:
            with self.joining(conn):
                yield conn
            self._group_intact(conn)

    @contextmanager
    def joining(self, group: Connection) -> Iterator[None]:
        """This thread's writing() blocks join group, a group_commit() open here or on
        another thread that waits meanwhile (the write lane's)."""
        outer = getattr(self._group, "conn", None)  # nested: a savepoint of the outer group
        self._group.conn = group
        try:
            yield
        finally:
            self._group.conn = outer

    def _group_intact(self, group: Connection) -> None:
        """Raise if SQLite rolled back the group's whole transaction.

        An interrupted or failed write (a statement timeout, a full disk) rolls
        back the whole transaction, not only its savepoint. The use cases before
        it in the group are then lost, and those after it would run in
        autocommit: the group must fail as a whole, before anyone is answered.
        """
        dbapi = group.connection.dbapi_connection
        if self.is_sqlite and not getattr(dbapi, "in_transaction", True):
            reason = sqlite3.OperationalError("a failed statement rolled back the group's writes")
            raise OperationalError("SAVEPOINT", None, reason)

    def dispose(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.close()
            self._checkpoints = None
        self.fast.close()
        self.engine.dispose()
        if self._turn is not None:
            self._turn.close()


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def _savepoint(conn: Connection) -> Iterator[None]:
    """A SAVEPOINT written by hand, on the DBAPI connection.

    Connection.begin_nested() names each savepoint anew and so compiles a fresh
    statement for each (about 40 us of a 130 us create in the writer thread).
    One name serves: savepoints nest, and RELEASE or ROLLBACK TO a name acts on
    the innermost one carrying it.
    """
    cursor = conn.connection.cursor()
    try:
        cursor.execute("SAVEPOINT phonebook_use_case")
        try:
            yield
        except BaseException:
            try:
                cursor.execute("ROLLBACK TO SAVEPOINT phonebook_use_case")
                cursor.execute("RELEASE SAVEPOINT phonebook_use_case")
            except conn.dialect.loaded_dbapi.Error:
                pass  # the transaction itself is gone: _group_intact reports that
            raise
        cursor.execute("RELEASE SAVEPOINT phonebook_use_case")
    finally:
        cursor.close()


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an INSERT created."""
    key = result.inserted_primary_key
    assert key is not None, "INSERT without a primary key"
    return int(key[0])


# PostgreSQL SQLSTATEs worth a retry: serialization failure, deadlock, lock
# not available, unique violation (a race on an insert the service checked).
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03", "23505"})


def is_retryable(exc: DBAPIError) -> bool:
    """Whether a failed transaction may succeed if run again from the start.

    SQLite's "database is locked" is not retried here: busy_timeout has already
    waited for the lock, so another attempt would only double the wait.
    """
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate in _RETRYABLE_SQLSTATES
