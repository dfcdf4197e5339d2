"""Fixtures: a real, migrated database per test on each backend, the real app, two accounts.

Every test that uses `database_url` runs on SQLite and, when
PHONEBOOK_TEST_POSTGRES_URL names a reachable server, on PostgreSQL too, each
on a database of its own copied from a migrated template.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from phonebook.app import build_app
from phonebook.service import accounts
from phonebook.settings import Settings
from phonebook.store import migrate
from phonebook.store.database import Database


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for every test (migrating each time is slower)."""
    path = tmp_path_factory.mktemp("template") / "phonebook.db"
    database = Database(f"sqlite:///{path}")
    migrate.upgrade(database)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


POSTGRES_URL = os.environ.get("PHONEBOOK_TEST_POSTGRES_URL", "")
NO_POSTGRES = "PostgreSQL half skipped: set PHONEBOOK_TEST_POSTGRES_URL to run it"
_names = itertools.count()
_DROPPED = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: checks something only SQLite has")
    if os.environ.get("CI") and not POSTGRES_URL:
        raise pytest.UsageError("CI must run the PostgreSQL half: set PHONEBOOK_TEST_POSTGRES_URL")


def _on_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and callspec.params.get("database_url") == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop PostgreSQL runs that cannot happen, so they cost one summary line, not hundreds."""
    dropped = [
        item
        for item in items
        if _on_postgresql(item) and (not POSTGRES_URL or item.get_closest_marker("sqlite_only"))
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        kept = set(map(id, dropped))
        items[:] = [item for item in items if id(item) not in kept]
    config.stash[_DROPPED] = sum(
        1 for item in dropped if not item.get_closest_marker("sqlite_only")
    )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    dropped = config.stash.get(_DROPPED, 0)
    if dropped:
        terminalreporter.write_line(f"{NO_POSTGRES} ({dropped} tests not run)")


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An autocommit connection to the test server, to create and drop databases."""
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        # Set but unreachable is a broken environment, not a reason to skip.
        pytest.fail(f"PHONEBOOK_TEST_POSTGRES_URL is set but unreachable: {exc.orig}")
    yield engine
    engine.dispose()


def _postgres_url(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template(postgres_admin: Engine) -> Iterator[str]:
    """A migrated database that each PostgreSQL test copies (CREATE DATABASE ... TEMPLATE)."""
    name = f"phonebook_template_{os.getpid()}"
    with postgres_admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    database = Database(_postgres_url(name))
    migrate.upgrade(database)
    database.dispose()
    yield name
    with postgres_admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _sqlite_copy(template: Path, directory: Path) -> str:
    path = directory / "phonebook.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database on each backend."""
    if request.param == "sqlite":
        yield _sqlite_copy(request.getfixturevalue("migrated_template"), tmp_path)
        return
    template: str = request.getfixturevalue("postgres_template")
    admin: Engine = request.getfixturevalue("postgres_admin")
    name = f"phonebook_test_{os.getpid()}_{next(_names)}"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    yield _postgres_url(name)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Tests of other behaviour must not depend on how many requests they make;
    # tests/test_rate_limits.py sets its own limits.
    return Settings(database_url=database_url, rate_limit="1000000/minute")


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    with TestClient(build_app(settings, database), raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass
class Api:
    """A client acting with one key: the calls tests make, without the boilerplate."""

    client: TestClient
    key: str
    account_id: int

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self._headers(headers), **kwargs)

    def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        return self.client.post(path, headers=self._headers(headers), json=body, **kwargs)

    def patch(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        return self.client.patch(path, headers=self._headers(headers), json=body, **kwargs)

    def delete(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.delete(path, headers=self._headers(headers), **kwargs)

    def send(self, method: str, path: str, content: bytes, **headers: str) -> Any:
        """A raw body, for malformed and oversized requests."""
        return self.client.request(
            method, path, content=content, headers={**self._headers(), **headers}
        )

    def constituent(self, **fields: Any) -> int:
        """Create a constituent (last_name defaults to "Doe"); its id."""
        response = self.post("/api/v1/constituents", {"last_name": "Doe", **fields})
        assert response.status_code == 200, response.text
        return int(response.json()["id"])

    def number(self, constituent_id: int, **fields: Any) -> dict[str, Any]:
        """Create a number (default "222-555-1212"); the created object."""
        body = {"number": "222-555-1212", **fields}
        response = self.post(f"/api/v1/constituents/{constituent_id}/phone_numbers", body)
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()
        return created


def _api_for(client: TestClient, database: Database, name: str, *, read_only: bool) -> Api:
    account_id = accounts.create_account(database, name)
    key = accounts.create_key(database, account_id, read_only=read_only)
    return Api(client, key, account_id)


@pytest.fixture
def api(client: TestClient, database: Database) -> Api:
    """Account A, with a read-write key."""
    return _api_for(client, database, "Account A", read_only=False)


@pytest.fixture
def read_only_api(api: Api, database: Database) -> Api:
    """Account A again, with a read-only key."""
    key = accounts.create_key(database, api.account_id, read_only=True)
    return Api(api.client, key, api.account_id)


@pytest.fixture
def other_api(client: TestClient, database: Database, api: Api) -> Api:
    """Account B, with a read-write key: it must never see account A's data."""
    return _api_for(client, database, "Account B", read_only=False)
