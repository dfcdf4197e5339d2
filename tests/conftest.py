"""Fixtures: a real, migrated SQLite file per test, the real app, and two accounts."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
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


@pytest.fixture
def database_url(migrated_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "phonebook.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


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

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self._headers(), **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, headers=self._headers(), json=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.patch(path, headers=self._headers(), json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(path, headers=self._headers(), **kwargs)

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
