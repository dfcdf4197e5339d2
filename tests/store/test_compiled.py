"""Statements compiled once: their parameters are exactly what SQLAlchemy would bind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from phonebook.store.compiled import _bind_processor, compiled_for
from phonebook.store.tables import phone_numbers

_SQLITE = sqlite.dialect()
_DATETIME = DateTime().dialect_impl(_SQLITE)
_SQLALCHEMYS: Any = _DATETIME.bind_processor(_SQLITE)
_OURS: Any = _bind_processor(_DATETIME, _SQLITE)
_INSERT = phone_numbers.insert()


@given(st.datetimes())
def test_sqlite_datetimes_are_written_as_sqlalchemy_writes_them(value: datetime) -> None:
    assert _OURS.__name__ == "by_isoformat"  # the fast form was taken, not the fallback
    assert _OURS(value) == _SQLALCHEMYS(value)


@given(st.datetimes(timezones=st.just(timezone(timedelta(hours=5)))))
def test_aware_datetimes_too(value: datetime) -> None:
    assert _OURS(value) == _SQLALCHEMYS(value)


def test_other_dialects_keep_sqlalchemys_processor() -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    impl = DateTime().dialect_impl(dialect)
    assert _bind_processor(impl, dialect) is impl.bind_processor(dialect)


@pytest.mark.parametrize("dialect", [_SQLITE, postgresql.psycopg.dialect()])  # type: ignore[no-untyped-call]
def test_parameters_are_the_values_sqlalchemy_binds(dialect: object) -> None:
    now = datetime(2026, 11, 27, 10, 0, 0, 5, tzinfo=UTC).replace(tzinfo=None)
    row = {
        "account_id": 1,
        "constituent_id": 5,
        "number": "(555) 0123-4567",
        "phone_number_type_id": 1,
        "is_preferred": True,
        "not_current": False,
        "normalized_number": "55501234567",
        "created_at": now,
        "updated_at": now,
    }
    ours = compiled_for(dialect, _INSERT, tuple(row))  # type: ignore[arg-type]
    theirs = _INSERT.compile(dialect=dialect, column_keys=list(row))  # type: ignore[arg-type]
    processors: Any = theirs._bind_processors
    expected = {
        name: processors[name](value) if name in processors else value
        for name, value in row.items()
    }
    bound = ours.parameters(row)
    if theirs.positional:
        assert bound == tuple(expected[name] for name in theirs.positiontup or ())
    else:
        assert bound == expected
