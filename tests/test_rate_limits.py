"""Per-key limits and failed-authentication throttling, in process and shared through Redis."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from limits import parse
from starlette.testclient import TestClient

from phonebook import rate_limits
from phonebook.app import build_app
from phonebook.rate_limits import LocalCounter
from phonebook.service import accounts
from phonebook.settings import Settings
from phonebook.store.database import Database

REDIS = ("127.0.0.1", 6379)


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


def client_for(settings: Settings, database: Database) -> TestClient:
    return TestClient(build_app(settings, database), raise_server_exceptions=False)


@pytest.fixture
def keys(database: Database) -> tuple[str, str]:
    mine = accounts.create_key(database, accounts.create_account(database, "A"), read_only=False)
    theirs = accounts.create_key(database, accounts.create_account(database, "B"), read_only=False)
    return mine, theirs


@pytest.fixture
def limited(settings: Settings, database: Database) -> Iterator[TestClient]:
    with client_for(replace(settings, rate_limit="3/minute"), database) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_key_over_its_limit_is_429_with_headers(
    limited: TestClient, keys: tuple[str, str]
) -> None:
    mine, _ = keys
    statuses = [
        limited.get("/api/v1/constituents", headers=bearer(mine)).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    response = limited.get("/api/v1/constituents", headers=bearer(mine))
    assert response.json()["error"] == "Too Many Requests"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["RateLimit-Limit"] == "3"
    assert response.headers["RateLimit-Remaining"] == "0"


def test_one_key_at_its_limit_does_not_limit_another(
    limited: TestClient, keys: tuple[str, str]
) -> None:
    mine, theirs = keys
    for _ in range(4):
        limited.get("/api/v1/constituents", headers=bearer(mine))
    assert limited.get("/api/v1/constituents", headers=bearer(theirs)).status_code == 200


def test_a_limited_write_changes_nothing(limited: TestClient, keys: tuple[str, str]) -> None:
    mine, _ = keys
    for _ in range(3):
        limited.get("/api/v1/constituents", headers=bearer(mine))
    response = limited.post("/api/v1/constituents", headers=bearer(mine), json={"last_name": "X"})
    assert response.status_code == 429
    _, theirs = keys
    # The other key is of another account; the limited account's list stays empty.
    assert limited.get("/api/v1/constituents", headers=bearer(theirs)).json()["total_items"] == 0


def test_repeated_failed_authentication_is_throttled(
    settings: Settings, database: Database, keys: tuple[str, str]
) -> None:
    throttled = replace(settings, auth_failure_limit="5/minute")
    with client_for(throttled, database) as client:
        failures = [
            client.get("/api/v1/constituents", headers=bearer("pb_guess")).status_code
            for _ in range(5)
        ]
        assert failures == [401] * 5
        # Now even a valid key from that client waits: guessing gains nothing.
        response = client.get("/api/v1/constituents", headers=bearer(keys[0]))
        assert response.status_code == 429
        assert "Retry-After" in response.headers


@pytest.mark.skipif(not _redis_reachable(), reason="no Redis at 127.0.0.1:6379")
def test_counts_are_shared_through_redis(
    settings: Settings, database: Database, keys: tuple[str, str]
) -> None:
    """Two apps (as two processes would) share one allowance when Redis holds the counts."""
    shared = replace(
        settings,
        rate_limit="4/minute",
        redis_url="redis://127.0.0.1:6379/0",
        # A fresh scope, so an earlier run's counts in Redis cannot interfere.
        database_url=f"{settings.database_url}?run={uuid.uuid4().hex}",
    )
    mine, _ = keys
    with client_for(shared, database) as one, client_for(shared, database) as two:
        statuses = [
            app.get("/api/v1/constituents", headers=bearer(mine)).status_code
            for app in (one, two, one, two, one)
        ]
    assert statuses == [200, 200, 200, 200, 429]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_local_counter_allows_the_amount_per_window_then_opens_a_new_one() -> None:
    clock = FakeClock()
    counter = LocalCounter(clock)
    item = parse("3/minute")

    async def hits(n: int, *ids: str) -> list[bool]:
        return [await counter.hit(item, *ids) for _ in range(n)]

    assert asyncio.run(hits(4, "key", "1")) == [True, True, True, False]
    assert asyncio.run(hits(1, "key", "2")) == [True]  # another key, another window
    assert asyncio.run(counter.test(item, "key", "1")) is False
    assert asyncio.run(counter.window(item, "key", "1")) == (1_060.0, 0)
    clock.now = 1_059.9
    assert asyncio.run(hits(1, "key", "1")) == [False]
    clock.now = 1_060.0  # the window opened by the first hit has run its minute
    assert asyncio.run(counter.test(item, "key", "1")) is True
    assert asyncio.run(hits(4, "key", "1")) == [True, True, True, False]
    assert asyncio.run(counter.window(item, "key", "1")) == (1_120.0, 0)


def test_local_counter_drops_expired_windows_when_it_grows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rate_limits, "_PRUNE_ABOVE", 3)
    clock = FakeClock()
    counter = LocalCounter(clock)
    item = parse("1/second")
    for client in ("a", "b", "c"):
        asyncio.run(counter.hit(item, "auth", client))
    clock.now += 2  # all three windows expired
    asyncio.run(counter.hit(item, "auth", "d"))
    assert set(counter._windows) == {("auth", "d")}


def test_local_counter_checks_without_opening_windows() -> None:
    """A client that only ever succeeds leaves nothing behind for the auth throttle."""
    clock = FakeClock()
    counter = LocalCounter(clock)
    item = parse("2/minute")
    assert asyncio.run(counter.test(item, "auth", "a")) is True
    assert asyncio.run(counter.window(item, "auth", "a")) == (1_060.0, 2)
    assert counter._windows == {}
