"""Engines and transactions; every SQLite/PostgreSQL difference in connecting sits here."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, CursorResult, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from phonebook.settings import Settings
from phonebook.store import digit_index, direct
from phonebook.store.checkpoints import Checkpointer
from phonebook.store.fast_reads import FastReads
from phonebook.store.writer_turn import WriterTurn, sqlite_file

if TYPE_CHECKING:
    import sqlite3
else:
    try:
        # The pysqlite3 wheel bundles a current SQLite (3.53) with the WAL-reset
        # fix, so several worker processes may write; the system's SQLite may lack
        # it (Debian 12 has 3.40.1). The same driver serves every connection of
        # the process: two SQLite libraries on one file would drop each other's
        # POSIX locks. See docs/decisions.md.
        from pysqlite3 import dbapi2 as sqlite3
    except ImportError:  # no wheel for this platform: the system's SQLite, one worker
        import sqlite3

SQLITE_DRIVER: str = sqlite3.__name__

_WRITE = "phonebook_write"
_READ = "phonebook_read"


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
        self._serving = _Serving()
        self._checkpoints: Checkpointer | None = None
        # Beyond pool_size (writes, and bursts as large again): each read thread may
        # hold its FastReads connection and check out one more, and so may the event
        # loop's thread. Short of that, a checkout would wait out the pool timeout.
        overflow = pool_size + 2 * (read_threads + 1)
        if self.is_sqlite:
            self.engine: Engine = create_engine(
                self.url,
                module=sqlite3,
                connect_args={"factory": _TimedSqliteConnection},
                pool_size=pool_size,
                max_overflow=overflow,
                # The connection used last has the warmest page cache: SQLite drops a
                # connection's cache whenever another one has written since. Taken in
                # turn (FIFO), each write began on the stalest one: a create's INSERT
                # took 63 us against 45 in one process (docs/performance.md). Two
                # worker processes writing in turn still start each other cold.
                pool_use_lifo=True,
            )
            _configure_sqlite(self.engine, sqlite_busy_timeout_ms, self._serving)
        else:
            # pre_ping: a server restart costs one failed check, not a failed request.
            self.engine = create_engine(
                self.url, pool_size=pool_size, max_overflow=overflow, pool_pre_ping=True
            )
            _configure_postgresql(self.engine, self._serving)
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
            yield conn.execution_options(**{_READ: True})

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One transaction, committed on success and rolled back on any exception.

        On SQLite it begins IMMEDIATE: the write lock is taken up front, so two
        writers queue on busy_timeout instead of failing to upgrade a read lock.
        Inside group_commit() on the same thread it is a SAVEPOINT of the group's
        transaction instead: all or nothing for this use case, durable with the group.
        """
        group: Connection | None = getattr(self._group, "conn", None)
        if group is not None:
            self._group_intact(group)
            with _savepoint(group):
                yield group
            return
        # The connection first: a wait for the pool must not hold the turn.
        with self.engine.connect() as conn, self.writer_turn():
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn
                if self.is_sqlite:
                    digit_index.apply_notes(conn)

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
    def group_commit(self) -> Iterator[Connection]:
        """One transaction that the writing() blocks of this thread join, one commit."""
        with self.writing() as conn:
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


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class _Serving:
    """What the served app sets for an engine's connections: the statement limit (0: none),
    and whether checkpoints run in the background (then not inside COMMITs)."""

    __slots__ = ("background_checkpoints", "milliseconds")

    def __init__(self) -> None:
        self.milliseconds = 0
        self.background_checkpoints = False


# SQLite calls the progress handler every this many virtual-machine instructions
# of a statement, about a millisecond of work: a primary-key SELECT never gets a
# call, and a long scan a thousand cheap ones a second.
_PROGRESS_STEPS = 100_000


class _TimedSqliteConnection(sqlite3.Connection):
    """A sqlite3 connection that interrupts a statement running past its limit.

    SQLite has no statement timeout, and Python's sqlite3 tells nothing when a
    statement starts; but SQLAlchemy, FastReads and store/direct.py open a
    cursor for every statement, so cursor() resets the clock. The deadline is set at the
    statement's first progress call, not its first instruction: the many short
    statements never read the clock, and a long one is stopped late by that one
    call's work (about a millisecond). A true answer from progress() interrupts
    the statement: OperationalError "interrupted".
    """

    serving: _Serving  # set by the connect hook
    _deadline: float | None = None

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        self._deadline = None
        return super().cursor(*args, **kwargs)

    def progress(self) -> bool:
        milliseconds = self.serving.milliseconds
        if not milliseconds:
            return False
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + milliseconds / 1000
            return False
        return now > self._deadline


_WAL_SIZE_LIMIT = 64 * 1024 * 1024


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, serving: _Serving) -> None:
    """WAL, foreign keys, a busy timeout, durable commits, explicit BEGINs, a statement limit.

    pysqlite's own transaction handling defers BEGIN until the first write and
    cannot begin IMMEDIATE, so it is switched off and SQLAlchemy's begin event
    emits the BEGIN itself (the recipe in SQLAlchemy's pysqlite docs).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # FULL: a commit acknowledged to a client survives a power loss, not
        # only a crash of the process (NORMAL in WAL may lose the last commits).
        cursor.execute("PRAGMA synchronous=FULL")
        if serving.background_checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        # The WAL file shrinks back to this when it restarts (default: never).
        cursor.execute(f"PRAGMA journal_size_limit={_WAL_SIZE_LIMIT}")
        # Freed pages are zeroed: a deleted number must not linger in the file.
        # Debian's SQLite had this compiled in; the pysqlite3 wheel's has not.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        # SQLite's own lower() folds ASCII only; the name search needs "É" -> "é",
        # as PostgreSQL's lower() gives.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        dbapi_connection.serving = serving
        dbapi_connection.set_progress_handler(dbapi_connection.progress, _PROGRESS_STEPS)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get(_READ):
            return
        statement = "BEGIN IMMEDIATE" if options.get(_WRITE) else "BEGIN"
        # On the driver's own connection: exec_driver_sql's machinery took ~5%
        # of a writing worker's Python time under load, once per group commit.
        try:
            conn.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
        except conn.dialect.loaded_dbapi.Error as exc:
            raise direct.driver_error(conn, statement, None, exc) from exc


_STATEMENT_TIMEOUT = "phonebook_statement_timeout_ms"


def _configure_postgresql(engine: Engine, serving: _Serving) -> None:
    """statement_timeout per connection, set (once per connection and value) at checkout.

    Not a connect option: the limit is set after the engine is made (by the app,
    not by migrations), and a pooled connection must pick up a change.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # No parallel workers for a query: requests are short, and the server runs
        # many at once. The plan a prepared lookup settles on (generic: it cannot
        # see the term) guessed 15,000 rows for one, and starting two workers made
        # a 0.3 ms lookup take 9 ms at 3M numbers (docs/decisions.md).
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")
        dbapi_connection.commit()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        milliseconds = serving.milliseconds
        # A new connection keeps the server's own setting until a limit is set.
        if record.info.get(_STATEMENT_TIMEOUT, 0) == milliseconds:
            return
        with dbapi_connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, false)", (f"{milliseconds}ms",)
            )
        dbapi_connection.commit()
        record.info[_STATEMENT_TIMEOUT] = milliseconds


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


SQLITE_WORKERS_REFUSED = (
    f"SQLite {sqlite3.sqlite_version} has the WAL-reset corruption bug (fixed in 3.51.3, "
    "3.50.7 and 3.44.6), which several writer processes can trigger: serve SQLite with "
    "--workers 1, install the pysqlite3 wheel (SQLite 3.53), or use PostgreSQL."
)


def sqlite_safe_for_many_writers(version: tuple[int, int, int] | None = None) -> bool:
    """Whether this SQLite has the WAL-reset fix, so several processes may write at once."""
    v = version or sqlite3.sqlite_version_info
    return v >= (3, 51, 3) or (3, 50, 7) <= v < (3, 51, 0) or (3, 44, 6) <= v < (3, 45, 0)
