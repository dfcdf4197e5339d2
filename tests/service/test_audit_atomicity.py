"""An audit event commits or vanishes with the change it records (one transaction).

Two directions, through HTTP on each backend:
- the event cannot be written (phonebook.store.audit.append raises, on the
  first event of a change or on a later one after others were written): the
  request answers 5xx and the change, with any event already written, is gone;
- the change fails (422, 412, 404, or the database refusing a statement after
  an event was written): no event remains.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from phonebook.store import audit as audit_store
from phonebook.store import phone_numbers as number_store
from phonebook.store.database import Database
from phonebook.store.tables import audit_events
from tests.conftest import Api

REAL_APPEND = audit_store.append
REAL_UPDATE_NUMBER = number_store.update_number


class InjectedError(RuntimeError):
    """The failure injected into a write."""


class FailOnCall:
    """Calls through to real, but raises on call number `failing` (1-based)."""

    def __init__(self, real: Callable[..., None], failing: int) -> None:
        self.real = real
        self.failing = failing
        self.calls = 0

    def __call__(self, conn: Connection, *args: Any) -> None:
        self.calls += 1
        if self.calls == self.failing:
            raise InjectedError(f"injected failure on call {self.calls}")
        self.real(conn, *args)


def fail_append(monkeypatch: pytest.MonkeyPatch, failing: int = 1) -> FailOnCall:
    broken = FailOnCall(REAL_APPEND, failing)
    monkeypatch.setattr(audit_store, "append", broken)
    return broken


def event_count(database: Database) -> int:
    with database.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_events)).scalar_one())


def show(api: Api, path: str) -> dict[str, Any]:
    response = api.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def number_ids(api: Api, cid: int) -> list[int]:
    return [n["id"] for n in show(api, f"/api/v1/constituents/{cid}/phone_numbers")["items"]]


def assert_server_error(response: Any) -> None:
    assert 500 <= response.status_code < 600, response.text


@pytest.fixture
def cid(api: Api) -> int:
    return api.constituent()


# --- the event cannot be written: the change is rolled back ---


def test_a_create_whose_event_fails_is_not_made(
    api: Api, cid: int, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = event_count(database)
    broken = fail_append(monkeypatch)
    assert_server_error(api.post(f"/api/v1/constituents/{cid}/phone_numbers", {"number": "5"}))
    assert broken.calls == 1
    assert number_ids(api, cid) == []
    assert event_count(database) == events
    monkeypatch.undo()
    api.number(cid)
    assert len(number_ids(api, cid)) == 1


def test_a_preferred_create_whose_event_fails_keeps_the_old_preference(
    api: Api, cid: int, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = api.number(cid, number="555-0100", is_preferred=True)
    events = event_count(database)
    # Call 1 records clearing the old number's flag; call 2, the new number, fails.
    broken = fail_append(monkeypatch, failing=2)
    body = {"number": "555-0101", "is_preferred": True}
    assert_server_error(api.post(f"/api/v1/constituents/{cid}/phone_numbers", body))
    assert broken.calls == 2
    assert show(api, f"/api/v1/phone_numbers/{old['id']}") == old
    assert number_ids(api, cid) == [old["id"]]
    assert event_count(database) == events


def test_a_constituent_whose_number_event_fails_is_not_made(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = event_count(database)
    # The constituent's event and its first number's are written; the second number's fails.
    broken = fail_append(monkeypatch, failing=3)
    body = {"last_name": "Doe", "phone_numbers": [{"number": "555-0100"}, {"number": "5-0101"}]}
    assert_server_error(api.post("/api/v1/constituents", body))
    assert broken.calls == 3
    assert show(api, "/api/v1/constituents")["total_items"] == 0
    assert event_count(database) == events


def test_an_update_whose_event_fails_is_not_applied(
    api: Api, cid: int, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = api.number(cid, number="555-0100")
    path = f"/api/v1/phone_numbers/{created['id']}"
    events = event_count(database)
    broken = fail_append(monkeypatch)
    assert_server_error(api.patch(path, {"number": "555-0199", "not_current": True}))
    assert broken.calls == 1
    assert show(api, path) == created
    assert event_count(database) == events


def test_a_handover_whose_second_event_fails_is_not_applied(
    api: Api, cid: int, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = api.number(cid, number="555-0100", is_preferred=True)
    second = api.number(cid, number="555-0101")
    events = event_count(database)
    broken = fail_append(monkeypatch, failing=2)
    response = api.patch(f"/api/v1/phone_numbers/{second['id']}", {"is_preferred": True})
    assert_server_error(response)
    assert broken.calls == 2
    assert show(api, f"/api/v1/phone_numbers/{first['id']}") == first
    assert show(api, f"/api/v1/phone_numbers/{second['id']}") == second
    assert event_count(database) == events


def test_a_constituent_update_whose_event_fails_is_not_applied(
    api: Api, cid: int, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"/api/v1/constituents/{cid}"
    before = show(api, path)
    events = event_count(database)
    fail_append(monkeypatch)
    assert_server_error(api.patch(path, {"last_name": "Changed"}))
    assert show(api, path) == before
    assert event_count(database) == events


def test_a_delete_whose_event_fails_is_not_made(
    api: Api, cid: int, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = api.number(cid)
    path = f"/api/v1/phone_numbers/{created['id']}"
    events = event_count(database)
    broken = fail_append(monkeypatch)
    assert_server_error(api.delete(path))
    assert broken.calls == 1
    assert show(api, path) == created
    assert event_count(database) == events


def test_a_constituent_delete_whose_last_event_fails_deletes_nothing(
    api: Api, cid: int, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.number(cid, number="555-0100", is_preferred=True)
    api.number(cid, number="555-0101")
    path = f"/api/v1/constituents/{cid}"
    before = show(api, path)
    events = event_count(database)
    # Both numbers' deletions are written; the constituent's own event fails.
    broken = fail_append(monkeypatch, failing=3)
    assert_server_error(api.delete(path))
    assert broken.calls == 3
    assert show(api, path) == before
    assert len(before["phone_numbers"]) == 2
    assert event_count(database) == events


def test_a_restore_whose_event_fails_is_not_made_and_may_be_retried(
    api: Api, cid: int, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = api.number(cid)
    path = f"/api/v1/phone_numbers/{created['id']}"
    assert api.delete(path).status_code == 200
    events = event_count(database)
    headers = {"Idempotency-Key": "restore-once"}
    broken = fail_append(monkeypatch)
    assert_server_error(api.post(f"{path}/restore", headers=headers))
    assert broken.calls == 1
    assert api.get(path).status_code == 404
    assert event_count(database) == events
    monkeypatch.undo()
    # Nothing was kept for the key either: the retry restores, it does not replay a 5xx.
    retried = api.post(f"{path}/restore", headers=headers)
    assert retried.status_code == 200, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    assert event_count(database) == events + 1


# --- the change fails: no event is written ---


def test_a_statement_failing_after_an_event_leaves_no_event(
    api: Api, cid: int, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clearing the old preferred number is recorded; then updating the new one fails."""
    first = api.number(cid, number="555-0100", is_preferred=True)
    second = api.number(cid, number="555-0101")
    events = event_count(database)
    broken = FailOnCall(REAL_UPDATE_NUMBER, failing=2)
    monkeypatch.setattr(number_store, "update_number", broken)
    response = api.patch(f"/api/v1/phone_numbers/{second['id']}", {"is_preferred": True})
    assert_server_error(response)
    assert broken.calls == 2
    assert event_count(database) == events
    assert show(api, f"/api/v1/phone_numbers/{first['id']}") == first


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("POST", "/api/v1/constituents/{cid}/phone_numbers", {"number": ""}, {}, 422),
        ("POST", "/api/v1/constituents/{cid}/phone_numbers", {"number": "5", "x": 1}, {}, 422),
        ("POST", "/api/v1/constituents/987654321/phone_numbers", {"number": "5"}, {}, 404),
        ("PATCH", "/api/v1/phone_numbers/{nid}", {"number": "   "}, {}, 422),
        ("PATCH", "/api/v1/phone_numbers/{nid}", {"phone_number_type_id": 99}, {}, 422),
        ("PATCH", "/api/v1/phone_numbers/{nid}", {"number": "5"}, {"If-Match": '"stale"'}, 412),
        ("DELETE", "/api/v1/phone_numbers/{nid}", None, {"If-Match": '"stale"'}, 412),
        (
            "POST",
            "/api/v1/constituents",
            {"last_name": "Doe", "phone_numbers": [{"number": "5"}, {"number": ""}]},
            {},
            422,
        ),
        ("PATCH", "/api/v1/constituents/{cid}", {"last_name": None}, {}, 422),
        ("PATCH", "/api/v1/constituents/{cid}", {"last_name": "X"}, {"If-Match": '"old"'}, 412),
        ("DELETE", "/api/v1/constituents/{cid}", None, {"If-Match": '"old"'}, 412),
        ("POST", "/api/v1/phone_numbers/{nid}/restore", None, {}, 409),
    ],
)
def test_a_change_that_fails_writes_no_event(
    api: Api,
    cid: int,
    database: Database,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    status: int,
) -> None:
    created = api.number(cid, number="555-0100", is_preferred=True)
    constituent = show(api, f"/api/v1/constituents/{cid}")
    events = event_count(database)
    target = path.format(cid=cid, nid=created["id"])
    response = api.client.request(
        method,
        target,
        json=body,
        headers={"Authorization": f"Bearer {api.key}", **headers},
    )
    assert response.status_code == status, response.text
    assert event_count(database) == events
    assert show(api, f"/api/v1/constituents/{cid}") == constituent
    assert show(api, "/api/v1/constituents")["total_items"] == 1
