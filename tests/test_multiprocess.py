"""Invariants across server processes and many concurrent clients, on both backends.

Clients add numbers (some preferred), make numbers preferred and delete them,
all at once, against `phonebook serve --workers N` (N=2 on PostgreSQL; SQLite
serves with one process here, see test_sqlite_refuses_workers_without_the_fix).
Afterwards: no constituent has two preferred numbers, ids are unique, every
acknowledged write is there and every acknowledged delete is gone, no 5xx.
"""

from __future__ import annotations

import platform
import random
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import pytest
import uvicorn
from click.testing import CliRunner
from sqlalchemy import func, select

from phonebook import cli
from phonebook.service import accounts
from phonebook.store import connections
from phonebook.store.connections import sqlite_safe_for_many_writers
from phonebook.store.database import Database
from phonebook.store.tables import phone_numbers
from tests.server_process import serving

CLIENTS = 8
OPERATIONS_PER_CLIENT = 30
CONSTITUENTS = 4
DEADLINE_S = 60.0


@dataclass
class ClientLog:
    """What one client saw acknowledged."""

    created: set[int] = field(default_factory=set)
    deleted: set[int] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def _client_run(
    base_url: str, key: str, constituents: list[int], seed: int, log: ClientLog
) -> None:
    chance = random.Random(seed)
    headers = {"Authorization": f"Bearer {key}"}
    mine: list[int] = []
    with httpx2.Client(base_url=base_url, headers=headers, timeout=30.0) as client:
        for _ in range(OPERATIONS_PER_CLIENT):
            action = chance.choice(["create", "create", "prefer", "delete"]) if mine else "create"
            if action == "create":
                cid = chance.choice(constituents)
                body = {
                    "number": f"555-{chance.randrange(10**4):04}",
                    "is_preferred": chance.random() < 0.5,
                }
                response = client.post(f"/api/v1/constituents/{cid}/phone_numbers", json=body)
                if response.status_code == 200:
                    mine.append(response.json()["id"])
                    log.created.add(response.json()["id"])
            elif action == "prefer":
                target = chance.choice(mine)
                response = client.patch(
                    f"/api/v1/phone_numbers/{target}", json={"is_preferred": True}
                )
            else:
                target = mine.pop(chance.randrange(len(mine)))
                response = client.delete(f"/api/v1/phone_numbers/{target}")
                if response.status_code == 200:
                    log.deleted.add(target)
            log.statuses[response.status_code] += 1


def _workers_for(database: Database) -> int:
    return 1 if database.is_sqlite and not sqlite_safe_for_many_writers() else 2


def test_invariants_hold_across_processes(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    account = accounts.create_account(database, "Load")
    key = accounts.create_key(database, account, read_only=False)
    workers = _workers_for(database)
    with serving(database_url, tmp_path, serve_args=["--workers", str(workers)]) as server:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx2.Client(base_url=server.base_url, headers=headers) as setup:
            constituents = [
                setup.post("/api/v1/constituents", json={"last_name": f"C{i}"}).json()["id"]
                for i in range(CONSTITUENTS)
            ]
        logs = [ClientLog() for _ in range(CLIENTS)]

        def guarded(index: int) -> None:
            try:
                _client_run(server.base_url, key, constituents, index, logs[index])
            except Exception as exc:
                logs[index].errors.append(repr(exc))

        threads = [threading.Thread(target=guarded, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=DEADLINE_S)
        assert not any(thread.is_alive() for thread in threads), "clients did not finish in time"

    statuses = sum((log.statuses for log in logs), Counter[int]())
    assert [e for log in logs for e in log.errors] == []
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {200, 409}, statuses
    created = set().union(*(log.created for log in logs))
    deleted = set().union(*(log.deleted for log in logs))
    assert sum(len(log.created) for log in logs) == len(created), "an id was handed out twice"

    with database.reading() as conn:
        stored = set(conn.execute(select(phone_numbers.c.id)).scalars())
        preferred_per_constituent = conn.execute(
            select(phone_numbers.c.constituent_id, func.count())
            .where(phone_numbers.c.is_preferred.is_(True))
            .group_by(phone_numbers.c.constituent_id)
        ).all()
    assert stored == created - deleted
    assert all(count == 1 for _, count in preferred_per_constituent)


@pytest.mark.sqlite_only
def test_sqlite_refuses_workers_without_the_fix(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "sqlite_safe_for_many_writers", lambda: False)

    def serve_anyway(*_: object, **__: object) -> None:
        raise AssertionError("served several SQLite workers without the WAL-reset fix")

    monkeypatch.setattr(uvicorn, "run", serve_anyway)  # fail, don't hang, if not refused
    result = CliRunner().invoke(cli.cli, ["--database", database_url, "serve", "--workers", "2"])
    assert result.exit_code != 0
    assert "WAL-reset" in result.output


@pytest.mark.skipif(
    sys.platform == "linux" and platform.machine() != "x86_64",
    reason="pysqlite3 has no wheel here: the system's SQLite serves",
)
def test_the_bundled_sqlite_has_the_wal_reset_fix() -> None:
    """The lock file's pysqlite3 is what lets SQLite run several workers."""
    assert connections.SQLITE_DRIVER == "pysqlite3.dbapi2"
    assert sqlite_safe_for_many_writers()
