"""Group commit on SQLite: a batch commits once, yet each write succeeds or fails alone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from phonebook.clock import utc_now
from phonebook.errors import ApiError, not_found
from phonebook.store.database import Database
from phonebook.store.tables import accounts, api_keys
from phonebook.store.writer_turn import WriterTurn
from phonebook.write_lane import GroupCommitLane, ThreadLane, lane_for


def _add_account(database: Database, name: str) -> str:
    with database.writing() as conn:
        conn.execute(insert(accounts).values(name=name, created_at=utc_now()))
        if name.startswith("bad"):
            raise not_found("refused after writing: must roll back to its savepoint")
    return name


def _names(conn: Connection) -> list[str]:
    return list(conn.execute(select(accounts.c.name).order_by(accounts.c.id)).scalars())


@pytest.mark.sqlite_only
def test_a_failed_write_in_a_batch_leaves_the_others(database: Database) -> None:
    lane = GroupCommitLane(database)
    names = ["a", "bad-1", "b", "bad-2", "c"]

    async def all_at_once() -> list[object]:
        jobs = [lane.run(_add_account, database, name) for name in names]
        return await asyncio.gather(*jobs, return_exceptions=True)

    try:
        results = asyncio.run(all_at_once())
    finally:
        lane.close()
    assert [r if isinstance(r, str) else type(r) for r in results] == [
        "a",
        ApiError,
        "b",
        ApiError,
        "c",
    ]
    with database.reading() as conn:
        assert _names(conn) == ["a", "b", "c"]


@pytest.mark.sqlite_only
def test_writes_are_batched_into_fewer_commits(database: Database) -> None:
    lane = GroupCommitLane(database)
    commits = 0
    real = database.group_commit

    def counting(committed: Callable[[], None] | None = None) -> AbstractContextManager[Connection]:
        nonlocal commits
        commits += 1
        return real(committed)

    database.group_commit = counting  # type: ignore[method-assign,assignment]

    async def many() -> None:
        await asyncio.gather(*(lane.run(_add_account, database, f"n{i}") for i in range(200)))

    try:
        asyncio.run(many())
    finally:
        lane.close()
    with database.reading() as conn:
        assert conn.execute(select(func.count()).select_from(accounts)).scalar_one() == 200
    assert commits < 200


def test_postgresql_gets_a_thread_pool(database: Database) -> None:
    lane = lane_for(database, threads=5)
    assert isinstance(lane, GroupCommitLane if database.is_sqlite else ThreadLane)


@pytest.mark.sqlite_only
def test_use_cases_run_on_the_event_loop_that_sent_them(database: Database) -> None:
    """The lane's thread begins and commits; the use case itself runs on the loop."""
    lane = GroupCommitLane(database)

    def where(_database: Database) -> int:
        with _database.writing() as conn:
            conn.execute(insert(accounts).values(name="here", created_at=utc_now()))
        return threading.get_ident()

    async def both() -> tuple[int, int]:
        ran_on = await lane.run(where, database)
        return ran_on, threading.get_ident()

    try:
        ran_on, loop_thread = asyncio.run(both())
    finally:
        lane.close()
    assert ran_on == loop_thread
    with database.reading() as conn:
        assert _names(conn) == ["here"]


@pytest.mark.sqlite_only
def test_closing_on_the_loop_with_writes_queued_neither_hangs_nor_writes_late(
    database: Database,
) -> None:
    """close() blocks the very loop the queued use case needs: it is cancelled, not run later."""
    lane = GroupCommitLane(database)

    async def close_while_queued() -> BaseException | None:
        write = asyncio.ensure_future(lane.run(_add_account, database, "late"))
        await asyncio.sleep(0)  # the job is queued; the lane's thread wants this loop next
        lane.close()
        try:
            await write
        except RuntimeError as exc:
            return exc
        return None

    error = asyncio.run(close_while_queued())
    assert isinstance(error, RuntimeError)
    with database.reading() as conn:
        assert _names(conn) == []


@pytest.mark.sqlite_only
def test_a_write_on_the_event_loop_of_the_served_app_is_refused(database: Database) -> None:
    """It would wait for the turn the lane holds while the lane waits for this loop."""
    database.coordinate_writers()

    async def write_here() -> None:
        _add_account(database, "on the loop")

    with pytest.raises(RuntimeError, match="write lane"):
        asyncio.run(write_here())
    assert _add_account(database, "off the loop") == "off the loop"  # no loop: allowed


@pytest.mark.sqlite_only
def test_a_loop_that_stops_with_a_write_queued_frees_the_lane(database: Database) -> None:
    """The lane gives the turn back instead of waiting for ever on a loop that is gone."""
    database.coordinate_writers()
    lane = GroupCommitLane(database)
    loop = asyncio.new_event_loop()
    # Held here, the turn keeps the lane's thread from reaching the loop while it
    # still runs: without it a quick thread ran the job in time (CI, stop 10).
    with database.writer_turn():
        orphan = loop.create_task(lane.run(_add_account, database, "orphan"))
        loop.run_until_complete(asyncio.sleep(0))  # queued; then the loop stops running
    later: list[str] = []  # from a live loop, in the orphan's group or the next one

    def write_after() -> None:
        later.append(asyncio.run(lane.run(_add_account, database, "after")))

    after = threading.Thread(target=write_after)
    after.start()
    after.join(timeout=30)  # a guard against hanging the suite, not a measurement
    try:
        assert later == ["after"]
        loop.run_until_complete(asyncio.wait([orphan]))
        assert isinstance(orphan.exception(), RuntimeError)
    finally:
        loop.close()
        lane.close()
    with database.reading() as conn:
        assert _names(conn) == ["after"]


class _Halt(BaseException):
    """Not an Exception: what a use case may not swallow."""


def _add_then_halt(database: Database, name: str) -> str:
    with database.writing() as conn:
        conn.execute(insert(accounts).values(name=name, created_at=utc_now()))
        raise _Halt


@pytest.mark.sqlite_only
def test_a_use_case_halted_mid_group_commits_nothing(database: Database) -> None:
    """Neither its half-done write nor anything else of its group is committed or acknowledged."""
    lane = GroupCommitLane(database)

    async def both() -> list[object]:
        writes = [lane.run(_add_account, database, "a"), lane.run(_add_then_halt, database, "b")]
        return await asyncio.gather(*writes, return_exceptions=True)

    try:
        results = asyncio.run(both())
    finally:
        lane.close()
    added, halted = results
    assert isinstance(halted, RuntimeError)
    with database.reading() as conn:  # "a" stands only if it was committed in a group before
        assert _names(conn) == ([] if isinstance(added, RuntimeError) else ["a"])


@pytest.mark.sqlite_only
def test_a_group_is_answered_before_the_writers_turn_passes_on(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Handing the turn over wakes the other worker's writer first; the answers need not wait."""
    database.coordinate_writers()
    lane = GroupCommitLane(database)
    answered = threading.Event()
    answered_before_release: list[bool] = []
    release = WriterTurn._release

    def release_once_answered(turn: WriterTurn) -> None:
        # Answered after the release, the write would only arrive once this gave up.
        answered_before_release.append(answered.wait(timeout=10))
        release(turn)

    monkeypatch.setattr(WriterTurn, "_release", release_once_answered)

    async def write() -> None:
        await lane.run(_add_account, database, "a")
        answered.set()

    try:
        asyncio.run(write())
    finally:
        lane.close()
    assert answered_before_release == [True]
    with database.reading() as conn:
        assert _names(conn) == ["a"]


@pytest.mark.sqlite_only
def test_a_turn_not_handed_on_after_the_commit_leaves_the_writes_answered(
    database: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The group was committed and answered: the failure is logged and the lane goes on."""
    database.coordinate_writers()
    lane = GroupCommitLane(database)
    release = WriterTurn._release
    failed: list[bool] = []

    def release_failing_once(turn: WriterTurn) -> None:
        if not failed:
            failed.append(True)
            raise OSError("the lock file went away")
        release(turn)

    monkeypatch.setattr(WriterTurn, "_release", release_failing_once)

    async def one_then_another() -> list[str]:
        return [
            await lane.run(_add_account, database, "a"),
            await lane.run(_add_account, database, "b"),
        ]

    try:
        results = asyncio.run(one_then_another())
    finally:
        lane.close()
    assert results == ["a", "b"]
    assert failed == [True]
    assert "after a committed group of writes" in caplog.text
    with database.reading() as conn:
        assert _names(conn) == ["a", "b"]


def _add_key_of_no_account(database: Database) -> str:
    """A write that only COMMIT refuses: its foreign key is checked there."""
    with database.writing() as conn:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        conn.execute(
            insert(api_keys).values(
                account_id=999_999,
                key_hash="x" * 64,
                label="",
                read_only=False,
                created_at=utc_now(),
            )
        )
    return "added"


@pytest.mark.sqlite_only
def test_a_group_whose_commit_fails_is_answered_with_the_error(database: Database) -> None:
    """Nothing is acknowledged before COMMIT has returned, and nothing of it stands."""
    lane = GroupCommitLane(database)

    async def write() -> object:
        try:
            # A bound against hanging the suite, not a measurement.
            return await asyncio.wait_for(lane.run(_add_key_of_no_account, database), 30)
        except Exception as exc:
            return exc

    try:
        result = asyncio.run(write())
    finally:
        lane.close()
    assert isinstance(result, IntegrityError)
    assert "FOREIGN KEY" in str(result)
    with database.reading() as conn:
        assert conn.execute(select(func.count()).select_from(api_keys)).scalar_one() == 0


def test_committed_runs_once_others_see_the_write(database: Database) -> None:
    seen: list[list[str]] = []

    def committed() -> None:
        with database.reading() as conn:  # another connection
            seen.append(_names(conn))

    with database.writing(committed=committed) as conn:
        conn.execute(insert(accounts).values(name="a", created_at=utc_now()))
    assert seen == [["a"]]


def test_a_savepoint_takes_no_committed_callback(database: Database) -> None:
    """Inside a group a write commits nothing when it ends: there is nothing to wait for."""
    refused = pytest.raises(ValueError, match="savepoint")
    with database.group_commit(), refused, database.writing(committed=lambda: None):
        pass
