"""Write use cases are retried on serialization failures and deadlocks, and only then."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from phonebook.service.retry import ATTEMPTS, retried
from phonebook.store.connections import sqlite_safe_for_many_writers


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _failing(times: int, error: Exception) -> tuple[list[int], Callable[[], str]]:
    calls: list[int] = []

    @retried
    def use_case() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "done"

    return calls, use_case


@pytest.mark.parametrize("sqlstate", ["40001", "40P01", "55P03", "23505"])
def test_retryable_failures_are_run_again(sqlstate: str) -> None:
    calls, use_case = _failing(2, OperationalError("UPDATE", {}, _PgError(sqlstate)))
    assert use_case() == "done"
    assert len(calls) == 3


def test_it_gives_up_after_the_last_attempt() -> None:
    error = IntegrityError("INSERT", {}, _PgError("23505"))
    calls, use_case = _failing(ATTEMPTS, error)
    with pytest.raises(IntegrityError):
        use_case()
    assert len(calls) == ATTEMPTS


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("UPDATE", {}, Exception("database is locked")),
        IntegrityError("INSERT", {}, _PgError("23503")),
    ],
)
def test_other_failures_are_not_retried(error: Exception) -> None:
    calls, use_case = _failing(1, error)
    with pytest.raises(type(error)):
        use_case()
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("version", "safe"),
    [
        ((3, 40, 1), False),
        ((3, 44, 5), False),
        ((3, 44, 6), True),
        ((3, 45, 0), False),
        ((3, 50, 6), False),
        ((3, 50, 7), True),
        ((3, 51, 2), False),
        ((3, 51, 3), True),
        ((3, 54, 0), True),
    ],
)
def test_sqlite_versions_with_the_wal_reset_fix(version: tuple[int, int, int], safe: bool) -> None:
    assert sqlite_safe_for_many_writers(version) is safe
