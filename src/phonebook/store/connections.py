"""How each backend's connections are made: every SQLite/PostgreSQL difference in connecting.

SQLite: the driver, WAL, durable commits, explicit BEGINs, a statement limit by
progress handler. PostgreSQL: its statement_timeout and planner settings.
Database (store/database.py) builds its engine with these.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, event

from phonebook.store import direct

if TYPE_CHECKING:
    import sqlite3 as sqlite3  # re-exported: Database raises its errors
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

# Execution options Database sets: a write transaction (BEGIN IMMEDIATE), or
# reads that need no BEGIN at all.
WRITE = "phonebook_write"
READ = "phonebook_read"


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class Serving:
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


class TimedSqliteConnection(sqlite3.Connection):
    """A sqlite3 connection that interrupts a statement running past its limit.

    SQLite has no statement timeout, and Python's sqlite3 tells nothing when a
    statement starts; but SQLAlchemy, FastReads and store/direct.py open a
    cursor for every statement, so cursor() resets the clock. The deadline is set at the
    statement's first progress call, not its first instruction: the many short
    statements never read the clock, and a long one is stopped late by that one
    call's work (about a millisecond). A true answer from progress() interrupts
    the statement: OperationalError "interrupted".
    """

    serving: Serving  # set by the connect hook
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


def configure_sqlite(engine: Engine, busy_timeout_ms: int, serving: Serving) -> None:
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
        if options.get(READ):
            return
        statement = "BEGIN IMMEDIATE" if options.get(WRITE) else "BEGIN"
        # On the driver's own connection: exec_driver_sql's machinery took ~5%
        # of a writing worker's Python time under load, once per group commit.
        try:
            conn.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
        except conn.dialect.loaded_dbapi.Error as exc:
            raise direct.driver_error(conn, statement, None, exc) from exc


_STATEMENT_TIMEOUT = "phonebook_statement_timeout_ms"


def configure_postgresql(engine: Engine, serving: Serving) -> None:
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


SQLITE_WORKERS_REFUSED = (
    f"SQLite {sqlite3.sqlite_version} has the WAL-reset corruption bug (fixed in 3.51.3, "
    "3.50.7 and 3.44.6), which several writer processes can trigger: serve SQLite with "
    "--workers 1, install the pysqlite3 wheel (SQLite 3.53), or use PostgreSQL."
)


def sqlite_safe_for_many_writers(version: tuple[int, int, int] | None = None) -> bool:
    """Whether this SQLite has the WAL-reset fix, so several processes may write at once."""
    v = version or sqlite3.sqlite_version_info
    return v >= (3, 51, 3) or (3, 50, 7) <= v < (3, 51, 0) or (3, 44, 6) <= v < (3, 45, 0)
