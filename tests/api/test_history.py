"""The audit trail over HTTP: history of numbers and constituents, and restoring a number.

Each change appends one event per object it changes, in order; the history
routes show them oldest first in the list envelope, with before and after in
the object's list-item shape. Tenant isolation of these routes is in
tests/test_tenancy.py; rollback together with the change in
tests/service/test_audit_atomicity.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import delete, update

from phonebook.service import accounts
from phonebook.store.database import Database
from phonebook.store.tables import audit_events, phone_numbers
from tests.conftest import Api
from tests.contract_keys import CONSTITUENT_ITEM_KEYS, ENVELOPE_KEYS, NUMBER_ITEM_KEYS

MISSING = 987654321
EVENT_KEYS = ["id", "action", "occurred_at", "key_id", "before", "after"]


@pytest.fixture
def cid(api: Api) -> int:
    return api.constituent(first_name="Ada", last_name="Lovelace")


def number_path(number_id: int) -> str:
    return f"/api/v1/phone_numbers/{number_id}"


def history_path(kind: str, object_id: int) -> str:
    return f"/api/v1/{kind}/{object_id}/history"


def history(api: Api, kind: str, object_id: int, **params: str) -> dict[str, Any]:
    """One page of history (kind: "phone_numbers" or "constituents"); it must answer 200."""
    response = api.get(history_path(kind, object_id), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def events(api: Api, kind: str, object_id: int) -> list[dict[str, Any]]:
    """Every event of one object, oldest first."""
    body = history(api, kind, object_id, limit="100")
    assert body["total_items"] == body["items_count"] == len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


def number_events(api: Api, number_id: int) -> list[dict[str, Any]]:
    return events(api, "phone_numbers", number_id)


def constituent_events(api: Api, constituent_id: int) -> list[dict[str, Any]]:
    return events(api, "constituents", constituent_id)


def actions(items: list[dict[str, Any]]) -> list[str]:
    return [item["action"] for item in items]


def as_item(body: dict[str, Any]) -> dict[str, Any]:
    """A single object's response as its list item: without api_version (nor embedded numbers)."""
    return {k: v for k, v in body.items() if k not in ("api_version", "phone_numbers")}


def shown(api: Api, number_id: int) -> dict[str, Any]:
    response = api.get(number_path(number_id))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def patched(api: Api, number_id: int, body: dict[str, Any], key: str | None = None) -> Any:
    headers = None if key is None else {"Authorization": f"Bearer {key}"}
    response = api.patch(number_path(number_id), body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def numbers_of(api: Api, constituent_id: int) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/constituents/{constituent_id}/phone_numbers?limit=100")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def key_id_of(database: Database, key: str) -> int:
    caller = accounts.authenticate(database, key)
    assert caller is not None
    assert caller.key_id > 0
    return caller.key_id


def restore(api: Api, number_id: int, headers: dict[str, str] | None = None) -> Any:
    return api.post(f"{number_path(number_id)}/restore", headers=headers)


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {k for k in before if before[k] != after[k]}


# --- what each change records ---


def test_create_update_delete_of_a_number(api: Api, cid: int, database: Database) -> None:
    created = api.number(cid, number="222-555-1212", phone_type_name="Mobile")
    nid = created["id"]
    updated = patched(api, nid, {"number": "(888) 555-0044", "not_current": True})
    listed = numbers_of(api, cid)
    assert api.delete(number_path(nid)).status_code == 200

    body = history(api, "phone_numbers", nid)
    assert list(body) == ENVELOPE_KEYS
    assert body["item_type"] == "audit_event"
    assert (body["items_count"], body["total_items"], body["offset"]) == (3, 3, 0)
    items = body["items"]
    assert actions(items) == ["create", "update", "delete"]
    for item in items:
        assert list(item) == EVENT_KEYS
    ids = [item["id"] for item in items]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3

    create, change, removal = items
    assert create["before"] is None
    assert list(create["after"]) == NUMBER_ITEM_KEYS
    assert create["after"] == as_item(created)
    assert create["occurred_at"] == created["created_at"]

    assert change["before"] == as_item(created)
    assert change["after"] == as_item(updated) == listed[0]
    assert {"number", "normalized_number", "not_current"} <= changed_keys(
        change["before"], change["after"]
    )
    assert changed_keys(change["before"], change["after"]) <= {
        "number",
        "normalized_number",
        "not_current",
        "updated_at",
    }
    assert change["after"]["normalized_number"] == "8885550044"
    assert change["occurred_at"] == updated["updated_at"]

    assert removal["before"] == as_item(updated)
    assert removal["after"] is None
    assert removal["occurred_at"] >= change["occurred_at"]

    key_id = key_id_of(database, api.key)
    assert [item["key_id"] for item in items] == [key_id] * 3


def test_create_update_delete_of_a_constituent(api: Api) -> None:
    response = api.post("/api/v1/constituents", {"first_name": "Ada", "last_name": "Byron"})
    assert response.status_code == 200
    created = response.json()
    cid = created["id"]
    listed = api.get("/api/v1/constituents").json()["items"]
    response = api.patch(f"/api/v1/constituents/{cid}", {"last_name": "Lovelace"})
    assert response.status_code == 200
    updated = response.json()
    assert api.delete(f"/api/v1/constituents/{cid}").status_code == 200
    assert api.get(f"/api/v1/constituents/{cid}").status_code == 404

    items = constituent_events(api, cid)
    assert actions(items) == ["create", "update", "delete"]
    create, change, removal = items
    assert create["before"] is None
    assert list(create["after"]) == CONSTITUENT_ITEM_KEYS
    assert create["after"] == as_item(created) == listed[0]
    assert change["before"] == as_item(created)
    assert change["after"] == as_item(updated)
    assert change["after"]["sort_name"] == "Lovelace, Ada"
    assert changed_keys(change["before"], change["after"]) - {"updated_at"} == {
        "last_name",
        "sort_name",
    }
    assert removal["before"] == as_item(updated)
    assert removal["after"] is None


def test_a_constituent_created_with_numbers_records_each(api: Api, database: Database) -> None:
    response = api.post(
        "/api/v1/constituents",
        {
            "last_name": "Doe",
            "phone_numbers": [
                {"number": "555-0100"},
                {"number": "555-0101", "is_preferred": True},
            ],
        },
    )
    assert response.status_code == 200, response.text
    created = response.json()
    key_id = key_id_of(database, api.key)

    own = constituent_events(api, created["id"])
    assert actions(own) == ["create"]  # its numbers' events are theirs, not its
    assert own[0]["key_id"] == key_id
    for embedded in created["phone_numbers"]:
        items = number_events(api, embedded["id"])
        assert actions(items) == ["create"]
        after = items[0]["after"]
        assert after["item_id"] == created["id"]
        assert (after["number"], after["is_preferred"]) == (
            embedded["number"],
            embedded["is_preferred"],
        )
        assert items[0]["key_id"] == key_id
        assert items[0]["id"] > own[0]["id"]


def test_patching_another_number_preferred_records_the_handover(
    api: Api, cid: int, database: Database
) -> None:
    first = api.number(cid, number="555-0100", is_preferred=True)
    second = api.number(cid, number="555-0101")
    # A second key of the same account makes the change: the handover is its doing too.
    other_key = accounts.create_key(database, api.account_id, read_only=False)
    made_preferred = patched(api, second["id"], {"is_preferred": True}, key=other_key)

    cleared = shown(api, first["id"])
    assert cleared["is_preferred"] is False
    first_items = number_events(api, first["id"])
    assert actions(first_items) == ["create", "update"]
    handover = first_items[1]
    assert handover["before"] == as_item(first)
    assert handover["before"]["is_preferred"] is True
    assert handover["after"] == as_item(cleared)
    assert changed_keys(handover["before"], handover["after"]) - {"updated_at"} == {"is_preferred"}

    second_items = number_events(api, second["id"])
    assert actions(second_items) == ["create", "update"]
    assert second_items[1]["before"] == as_item(second)
    assert second_items[1]["after"] == as_item(made_preferred)
    assert second_items[1]["after"]["is_preferred"] is True

    other_key_id = key_id_of(database, other_key)
    assert other_key_id != key_id_of(database, api.key)
    assert handover["key_id"] == second_items[1]["key_id"] == other_key_id
    assert handover["occurred_at"] == second_items[1]["occurred_at"]


def test_creating_a_preferred_number_records_the_handover(api: Api, cid: int) -> None:
    first = api.number(cid, number="555-0100", is_preferred=True)
    second = api.number(cid, number="555-0101", is_preferred=True)
    first_items = number_events(api, first["id"])
    assert actions(first_items) == ["create", "update"]
    assert first_items[1]["before"]["is_preferred"] is True
    assert first_items[1]["after"]["is_preferred"] is False
    assert first_items[1]["after"] == as_item(shown(api, first["id"]))
    second_items = number_events(api, second["id"])
    assert actions(second_items) == ["create"]
    assert second_items[0]["after"] == as_item(second)


def test_a_handover_leaves_numbers_that_were_not_preferred_alone(api: Api, cid: int) -> None:
    bystander = api.number(cid, number="555-0100")
    api.number(cid, number="555-0101", is_preferred=True)
    api.number(cid, number="555-0102", is_preferred=True)
    assert actions(number_events(api, bystander["id"])) == ["create"]


def test_deleting_a_constituent_deletes_each_number_first(api: Api, cid: int) -> None:
    preferred = api.number(cid, number="555-0100", is_preferred=True)
    other = api.number(cid, number="555-0101", not_current=True)
    constituent = api.get(f"/api/v1/constituents/{cid}").json()
    untouched = api.constituent(last_name="Bystander")
    kept = api.number(untouched, number="555-0102")

    assert api.delete(f"/api/v1/constituents/{cid}").status_code == 200

    deletions = []
    for number in (preferred, other):
        items = number_events(api, number["id"])
        assert actions(items) == ["create", "delete"]
        assert items[1]["before"] == as_item(number)
        assert items[1]["after"] is None
        deletions.append(items[1])
    own = constituent_events(api, cid)
    assert actions(own) == ["create", "delete"]
    assert own[1]["before"] == as_item(constituent)
    assert own[1]["after"] is None
    assert all(deletion["id"] < own[1]["id"] for deletion in deletions)
    assert actions(number_events(api, kept["id"])) == ["create"]
    assert actions(constituent_events(api, untouched)) == ["create"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"number": "222-555-1212"},
        {"phone_type_name": "home"},
        {"phone_number_type_id": 1},
        {"is_preferred": False, "not_current": False},
    ],
)
def test_a_patch_that_changes_nothing_records_nothing(
    api: Api, cid: int, body: dict[str, Any]
) -> None:
    created = api.number(cid, number="222-555-1212")
    assert patched(api, created["id"], body) == created
    assert actions(number_events(api, created["id"])) == ["create"]


def test_a_constituent_patch_that_changes_nothing_records_nothing(api: Api, cid: int) -> None:
    response = api.patch(f"/api/v1/constituents/{cid}", {"first_name": "Ada"})
    assert response.status_code == 200
    assert actions(constituent_events(api, cid)) == ["create"]


def test_making_the_preferred_number_preferred_again_records_nothing(api: Api, cid: int) -> None:
    created = api.number(cid, is_preferred=True)
    patched(api, created["id"], {"is_preferred": True})
    assert actions(number_events(api, created["id"])) == ["create"]


def test_key_id_is_the_key_that_acted(api: Api, cid: int, database: Database) -> None:
    second_key = accounts.create_key(database, api.account_id, read_only=False)
    created = api.number(cid)
    patched(api, created["id"], {"number": "555-0100"}, key=second_key)
    assert api.delete(number_path(created["id"])).status_code == 200
    first_id, second_id = key_id_of(database, api.key), key_id_of(database, second_key)
    assert first_id != second_id
    items = number_events(api, created["id"])
    assert [item["key_id"] for item in items] == [first_id, second_id, first_id]


# --- reading history ---


def test_history_pages_like_other_lists(api: Api, cid: int) -> None:
    nid = api.number(cid, number="555-0100")["id"]
    for last in range(1, 5):
        patched(api, nid, {"number": f"555-010{last}"})
    everything = number_events(api, nid)
    assert actions(everything) == ["create"] + ["update"] * 4
    assert [item["after"]["number"] for item in everything] == [f"555-010{i}" for i in range(5)]

    path = history_path("phone_numbers", nid)
    pages = []
    body = history(api, "phone_numbers", nid, limit="2")
    while True:
        pages.append(body)
        if "next_link" not in body:
            assert "next_item" not in body
            break
        link = urlsplit(body["next_link"])
        assert link.path == path
        expected_offset = body["offset"] + 2
        assert body["next_item"] == expected_offset
        assert parse_qsl(link.query) == [("limit", "2"), ("offset", str(expected_offset))]
        response = api.get(f"{link.path}?{link.query}")
        assert response.status_code == 200
        body = response.json()

    assert [(p["offset"], p["items_count"], p["total_items"]) for p in pages] == [
        (0, 2, 5),
        (2, 2, 5),
        (4, 1, 5),
    ]
    assert all(p["limit"] == 2 for p in pages)
    assert [item for p in pages for item in p["items"]] == everything


def test_history_past_the_end_is_an_empty_page(api: Api, cid: int) -> None:
    body = history(api, "constituents", cid, offset="5")
    assert (body["items"], body["items_count"], body["total_items"]) == ([], 0, 1)
    assert "next_link" not in body


@pytest.mark.parametrize("query", ["limit=0", "limit=two", "offset=-1"])
def test_bad_paging_of_history_is_400(api: Api, cid: int, query: str) -> None:
    response = api.get(f"{history_path('constituents', cid)}?{query}")
    assert response.status_code == 400


def test_history_outlives_the_number(api: Api, cid: int) -> None:
    nid = api.number(cid)["id"]
    assert api.delete(number_path(nid)).status_code == 200
    assert api.get(number_path(nid)).status_code == 404
    assert actions(number_events(api, nid)) == ["create", "delete"]


@pytest.mark.parametrize("kind", ["phone_numbers", "constituents"])
def test_history_of_an_id_never_seen_is_404(api: Api, kind: str) -> None:
    response = api.get(history_path(kind, MISSING))
    assert response.status_code == 404
    assert response.json()["error"] == "Not Found"


def test_a_constituents_events_are_not_a_numbers_history(api: Api) -> None:
    # No number exists yet, so no number has this constituent's id.
    cid = api.constituent()
    assert api.get(history_path("phone_numbers", cid)).status_code == 404
    assert actions(constituent_events(api, cid)) == ["create"]


def test_a_number_without_events_has_an_empty_history(
    api: Api, cid: int, database: Database
) -> None:
    """A number stored before the trail existed is there, with nothing recorded yet."""
    nid = api.number(cid)["id"]
    with database.writing() as conn:
        conn.execute(delete(audit_events).where(audit_events.c.entity == "phone_number"))
    body = history(api, "phone_numbers", nid)
    assert (body["items"], body["total_items"]) == ([], 0)
    assert api.delete(number_path(nid)).status_code == 200
    assert actions(number_events(api, nid)) == ["delete"]


def test_read_only_keys_read_history(api: Api, read_only_api: Api, cid: int) -> None:
    nid = api.number(cid)["id"]
    patched(api, nid, {"number": "555-0100"})
    assert history(read_only_api, "phone_numbers", nid) == history(api, "phone_numbers", nid)
    assert history(read_only_api, "constituents", cid) == history(api, "constituents", cid)


# --- restore ---


def test_restore_brings_the_number_back_as_it_was(api: Api, cid: int, database: Database) -> None:
    created = api.number(
        cid, number="(888) 555-0044", phone_type_name="Mobile", is_preferred=True, not_current=True
    )
    nid = created["id"]
    long_ago = datetime(2001, 2, 3, 4, 5, 6)
    with database.writing() as conn:
        conn.execute(
            update(phone_numbers)
            .where(phone_numbers.c.id == nid)
            .values(created_at=long_ago, updated_at=long_ago)
        )
    before_delete = shown(api, nid)
    assert before_delete["updated_at"] == "2001-02-03T04:05:06Z"
    assert api.delete(number_path(nid)).status_code == 200
    assert api.get(number_path(nid)).status_code == 404

    response = restore(api, nid)
    assert response.status_code == 200, response.text
    restored = response.json()
    assert restored["updated_at"] > before_delete["updated_at"]  # moved to now
    assert {k: v for k, v in restored.items() if k != "updated_at"} == {
        k: v for k, v in before_delete.items() if k != "updated_at"
    }
    assert restored["created_at"] == "2001-02-03T04:05:06Z"
    assert restored["is_preferred"] is True  # nothing else became preferred meanwhile

    again = api.get(number_path(nid))
    assert again.status_code == 200
    assert again.json() == restored
    assert again.headers["ETag"] == response.headers["ETag"]
    assert numbers_of(api, cid) == [as_item(restored)]

    items = number_events(api, nid)
    assert actions(items) == ["create", "delete", "restore"]
    assert items[1]["before"] == as_item(before_delete)
    assert items[2]["before"] is None
    assert items[2]["after"] == as_item(restored)
    assert items[2]["key_id"] == key_id_of(database, api.key)
    assert items[2]["occurred_at"] == restored["updated_at"]


def test_a_restored_number_lives_on(api: Api, cid: int) -> None:
    nid = api.number(cid)["id"]
    for _ in range(2):
        assert api.delete(number_path(nid)).status_code == 200
        assert restore(api, nid).status_code == 200
    patched(api, nid, {"number": "555-0199"})
    assert actions(number_events(api, nid)) == [
        "create",
        "delete",
        "restore",
        "delete",
        "restore",
        "update",
    ]
    assert shown(api, nid)["number"] == "555-0199"


def test_restore_keeps_a_preference_made_since(api: Api, cid: int) -> None:
    old = api.number(cid, number="555-0100", is_preferred=True)
    assert api.delete(number_path(old["id"])).status_code == 200
    new = api.number(cid, number="555-0101", is_preferred=True)

    response = restore(api, old["id"])
    assert response.status_code == 200, response.text
    assert response.json()["is_preferred"] is False
    assert shown(api, new["id"]) == new
    assert actions(number_events(api, new["id"])) == ["create"]
    items = number_events(api, old["id"])
    assert actions(items) == ["create", "delete", "restore"]
    assert items[1]["before"]["is_preferred"] is True
    assert items[2]["after"]["is_preferred"] is False
    assert [n["is_preferred"] for n in numbers_of(api, cid)] == [False, True]


def test_restore_is_preferred_again_when_no_other_is(api: Api, cid: int) -> None:
    old = api.number(cid, number="555-0100", is_preferred=True)
    assert api.delete(number_path(old["id"])).status_code == 200
    api.number(cid, number="555-0101")  # not preferred
    response = restore(api, old["id"])
    assert response.status_code == 200
    assert response.json()["is_preferred"] is True


def test_restore_never_makes_a_number_preferred(api: Api, cid: int) -> None:
    old = api.number(cid, number="555-0100", is_preferred=False)
    assert api.delete(number_path(old["id"])).status_code == 200
    assert restore(api, old["id"]).json()["is_preferred"] is False


def test_restore_of_a_number_that_exists_is_409(api: Api, cid: int) -> None:
    nid = api.number(cid)["id"]
    response = restore(api, nid)
    assert response.status_code == 409
    assert actions(number_events(api, nid)) == ["create"]
    assert api.delete(number_path(nid)).status_code == 200
    assert restore(api, nid).status_code == 200
    assert restore(api, nid).status_code == 409
    assert actions(number_events(api, nid)) == ["create", "delete", "restore"]


def test_restore_of_a_number_never_had_is_404(api: Api) -> None:
    response = restore(api, MISSING)
    assert response.status_code == 404
    assert response.json()["error"] == "Not Found"


def test_restore_of_another_accounts_deleted_number_is_404(
    api: Api, other_api: Api, database: Database
) -> None:
    theirs = other_api.number(other_api.constituent())
    assert other_api.delete(number_path(theirs["id"])).status_code == 200
    assert restore(api, theirs["id"]).status_code == 404
    assert other_api.get(number_path(theirs["id"])).status_code == 404
    assert actions(number_events(other_api, theirs["id"])) == ["create", "delete"]
    # It was theirs to restore all along.
    assert restore(other_api, theirs["id"]).status_code == 200
    assert actions(number_events(other_api, theirs["id"])) == ["create", "delete", "restore"]


@pytest.mark.parametrize("deleted_first", [True, False], ids=["number-then-owner", "cascade"])
def test_restore_when_its_constituent_is_deleted_is_409(
    api: Api, cid: int, deleted_first: bool
) -> None:
    nid = api.number(cid)["id"]
    if deleted_first:
        assert api.delete(number_path(nid)).status_code == 200
    assert api.delete(f"/api/v1/constituents/{cid}").status_code == 200
    response = restore(api, nid)
    assert response.status_code == 409
    assert api.get(number_path(nid)).status_code == 404
    assert actions(number_events(api, nid)) == ["create", "delete"]


def test_restore_with_a_read_only_key_is_403(api: Api, read_only_api: Api, cid: int) -> None:
    nid = api.number(cid)["id"]
    assert api.delete(number_path(nid)).status_code == 200
    assert restore(read_only_api, nid).status_code == 403
    assert api.get(number_path(nid)).status_code == 404
    assert actions(number_events(api, nid)) == ["create", "delete"]


def test_restore_answers_an_idempotency_key_once(api: Api, cid: int) -> None:
    nid = api.number(cid)["id"]
    assert api.delete(number_path(nid)).status_code == 200
    first = restore(api, nid, headers={"Idempotency-Key": "restore-1"})
    again = restore(api, nid, headers={"Idempotency-Key": "restore-1"})
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert actions(number_events(api, nid)) == ["create", "delete", "restore"]
    assert restore(api, nid, headers={"Idempotency-Key": "restore-2"}).status_code == 409


# -- restoring a constituent, with the numbers deleted with it -------------------------


def restore_constituent(api: Api, constituent_id: int) -> Any:
    return api.post(f"/api/v1/constituents/{constituent_id}/restore")


def test_restore_brings_a_constituent_back_with_its_numbers(api: Api) -> None:
    cid = api.constituent(first_name="Ada", last_name="Lovelace", external_constituent_id="x-1")
    home = api.number(cid, number="222-555-0101")["id"]
    mobile = api.number(cid, number="222-555-0102", phone_type_name="Mobile", is_preferred=True)
    before = api.get(f"/api/v1/constituents/{cid}").json()
    assert api.delete(f"/api/v1/constituents/{cid}").status_code == 200

    response = restore_constituent(api, cid)
    assert response.status_code == 200, response.text
    restored = response.json()
    assert restored == api.get(f"/api/v1/constituents/{cid}").json()
    unchanged = ("updated_at", "phone_numbers")
    assert {k: v for k, v in restored.items() if k not in unchanged} == {
        k: v for k, v in before.items() if k not in unchanged
    }
    kept = [{k: v for k, v in n.items() if k != "updated_at"} for n in restored["phone_numbers"]]
    was = [{k: v for k, v in n.items() if k != "updated_at"} for n in before["phone_numbers"]]
    assert kept == was
    assert [n["id"] for n in restored["phone_numbers"]] == [home, mobile["id"]]
    assert response.headers["ETag"] == api.get(f"/api/v1/constituents/{cid}").headers["ETag"]
    assert actions(constituent_events(api, cid)) == ["create", "delete", "restore"]
    assert actions(number_events(api, home)) == ["create", "delete", "restore"]


def test_a_number_deleted_before_its_constituent_stays_deleted(api: Api, cid: int) -> None:
    gone = api.number(cid, number="222-555-0103")["id"]
    stays = api.number(cid, number="222-555-0104")["id"]
    assert api.delete(number_path(gone)).status_code == 200
    assert api.delete(f"/api/v1/constituents/{cid}").status_code == 200
    assert restore_constituent(api, cid).status_code == 200
    assert [n["id"] for n in numbers_of(api, cid)] == [stays]
    assert api.get(number_path(gone)).status_code == 404
    # Now that its constituent is back, it can be restored on its own.
    assert restore(api, gone).status_code == 200
    assert [n["id"] for n in numbers_of(api, cid)] == [gone, stays]


def test_restore_of_a_constituent_that_exists_is_409(api: Api, cid: int) -> None:
    response = restore_constituent(api, cid)
    assert response.status_code == 409
    assert actions(constituent_events(api, cid)) == ["create"]


def test_restore_of_a_constituent_never_had_is_404(api: Api, other_api: Api) -> None:
    assert restore_constituent(api, MISSING).status_code == 404
    theirs = other_api.constituent()
    assert other_api.delete(f"/api/v1/constituents/{theirs}").status_code == 200
    assert restore_constituent(api, theirs).status_code == 404
    assert other_api.get(f"/api/v1/constituents/{theirs}").status_code == 404
    assert restore_constituent(other_api, theirs).status_code == 200


def test_restore_of_a_constituent_with_a_read_only_key_is_403(
    api: Api, read_only_api: Api, cid: int
) -> None:
    assert api.delete(f"/api/v1/constituents/{cid}").status_code == 200
    assert restore_constituent(read_only_api, cid).status_code == 403
    assert api.get(f"/api/v1/constituents/{cid}").status_code == 404


def test_the_409_for_a_number_names_the_constituent_restore(api: Api, cid: int) -> None:
    nid = api.number(cid)["id"]
    assert api.delete(f"/api/v1/constituents/{cid}").status_code == 200
    response = restore(api, nid)
    assert response.status_code == 409
    assert "restore it first" in response.json()["description"]
