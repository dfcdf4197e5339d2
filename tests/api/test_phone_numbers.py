"""Phone number routes: the rules of CONTRACT §2 to §4, through HTTP on real SQLite."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update

from phonebook.store.database import Database
from phonebook.store.tables import phone_numbers
from tests.conftest import Api


@pytest.fixture
def cid(api: Api) -> int:
    return api.constituent()


def numbers_of(api: Api, constituent_id: int) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/constituents/{constituent_id}/phone_numbers?limit=100")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def create(api: Api, constituent_id: int, body: Any) -> Any:
    return api.post(f"/api/v1/constituents/{constituent_id}/phone_numbers", body)


# --- types (CONTRACT §3) ---


def test_create_without_a_type_is_home(api: Api, cid: int) -> None:
    created = api.number(cid)
    assert (created["phone_number_type_id"], created["phone_type_name"]) == (1, "Home")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"phone_number_type_id": 3}, (3, "Mobile")),
        ({"phone_number_type_id": "5"}, (5, "Fax")),
        ({"phone_type_name": "Work"}, (2, "Work")),
        ({"phone_type_name": "pAgEr"}, (8, "Pager")),
        ({"phone_number_type_id": 7, "phone_type_name": "assistant"}, (7, "Assistant")),
        ({"phone_number_type_id": None, "phone_type_name": "Other"}, (4, "Other")),
    ],
)
def test_either_type_field_picks_the_type(
    api: Api, cid: int, body: dict[str, Any], expected: tuple[int, str]
) -> None:
    created = api.number(cid, **body)
    assert (created["phone_number_type_id"], created["phone_type_name"]) == expected


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone_number_type_id": 2, "phone_type_name": "Home"}, "phone_type_name"),
        ({"phone_number_type_id": 99}, "phone_number_type_id"),
        ({"phone_number_type_id": 0}, "phone_number_type_id"),
        ({"phone_type_name": "Carrier pigeon"}, "phone_type_name"),
    ],
)
def test_unknown_or_contradictory_types_are_422_and_store_nothing(
    api: Api, cid: int, body: dict[str, Any], field: str
) -> None:
    response = create(api, cid, {"number": "555-0100", **body})
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert numbers_of(api, cid) == []


def test_patch_type_id_brings_its_name(api: Api, cid: int) -> None:
    created = api.number(cid)
    response = api.patch(f"/api/v1/phone_numbers/{created['id']}", {"phone_number_type_id": 2})
    assert response.json()["phone_type_name"] == "Work"
    response = api.patch(f"/api/v1/phone_numbers/{created['id']}", {"phone_type_name": "fax"})
    assert (response.json()["phone_number_type_id"], response.json()["phone_type_name"]) == (
        5,
        "Fax",
    )


# --- the number (CONTRACT §2, §4) ---


@pytest.mark.parametrize(
    ("number", "normalized"),
    [
        ("(888) 555-0044", "8885550044"),
        ("+44 20 7946 0958", "442079460958"),
        ("  222-555-1212  ", "2225551212"),
        ("\uff11\uff12\uff13-\uff14\uff15\uff16", "123456"),  # fullwidth digits
    ],
)
def test_normalized_number_is_the_digits(api: Api, cid: int, number: str, normalized: str) -> None:
    created = api.number(cid, number=number)
    assert created["normalized_number"] == normalized
    assert created["number"] == number.strip()


def test_a_skype_handle_needs_no_digit(api: Api, cid: int) -> None:
    created = api.number(cid, number="ada.lovelace", phone_type_name="Skype")
    assert created["normalized_number"] is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"number": ""},
        {"number": "   "},
        {"number": "5" * 65},
        {"number": "555\n0100"},
        {"number": "555\x000100"},
        {"number": "no digits here"},
        {"number": 5550100},
        {"number": None},
        {"number": ["555"]},
    ],
)
def test_bad_numbers_are_422_and_store_nothing(api: Api, cid: int, body: dict[str, Any]) -> None:
    response = create(api, cid, body)
    assert response.status_code == 422
    assert "number" in response.json()["errors"]
    assert numbers_of(api, cid) == []


def test_sixty_four_characters_is_the_limit(api: Api, cid: int) -> None:
    assert api.number(cid, number="5" * 64)["number"] == "5" * 64


def test_patch_keeps_the_digit_rule_for_the_resulting_type(api: Api, cid: int) -> None:
    handle = api.number(cid, number="ada.lovelace", phone_type_name="Skype")
    response = api.patch(f"/api/v1/phone_numbers/{handle['id']}", {"phone_type_name": "Home"})
    assert response.status_code == 422
    assert api.get(f"/api/v1/phone_numbers/{handle['id']}").json() == {
        **handle,
        "api_version": "1.0",
    }


def test_patch_number_renormalizes(api: Api, cid: int) -> None:
    created = api.number(cid)
    response = api.patch(f"/api/v1/phone_numbers/{created['id']}", {"number": "(888) 555-0044"})
    assert response.json()["normalized_number"] == "8885550044"


# --- lax forms and unknown keys (CONTRACT §4) ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), ("true", True), ("1", True), (1, True), ("false", False), ("0", False)],
)
def test_booleans_accept_lax_forms(api: Api, cid: int, raw: object, expected: bool) -> None:
    created = api.number(cid, is_preferred=raw, not_current=raw)
    assert created["is_preferred"] is expected
    assert created["not_current"] is expected


@pytest.mark.parametrize(
    "body",
    [
        {"is_preferred": "yes"},
        {"is_preferred": 2},
        {"is_preferred": None},
        {"not_current": []},
        {"phone_number_type_id": "two"},
        {"phone_number_type_id": 2.5},
        {"phone_number_type_id": True},
        {"phone_type_name": 3},
    ],
)
def test_wrong_types_are_422_naming_the_field(api: Api, cid: int, body: dict[str, Any]) -> None:
    response = create(api, cid, {"number": "555-0100", **body})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == set(body)
    assert numbers_of(api, cid) == []


def test_unknown_keys_are_422_naming_them(api: Api, cid: int) -> None:
    response = create(api, cid, {"number": "555-0100", "extension": "12"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"extension": ["is not a known field"]}
    assert "extension" in response.json()["description"]


def test_a_fetched_object_can_be_sent_back(api: Api, cid: int) -> None:
    created = api.number(cid)
    response = api.patch(f"/api/v1/phone_numbers/{created['id']}", created)
    assert response.status_code == 200
    assert response.json() == created


def test_read_only_keys_are_ignored(api: Api, cid: int) -> None:
    created = api.number(
        cid, id=1, item_id=999, normalized_number="0", parent_id=5, created_at="x", item_type="Y"
    )
    assert created["item_id"] == cid
    assert created["normalized_number"] == "2225551212"
    assert created["parent_id"] is None


# --- preferred (CONTRACT §4) ---


def preferred_ids(api: Api, constituent_id: int) -> list[int]:
    return [n["id"] for n in numbers_of(api, constituent_id) if n["is_preferred"]]


def test_one_preferred_number_per_constituent(api: Api, cid: int) -> None:
    first = api.number(cid, is_preferred=True)
    second = api.number(cid, is_preferred=True)
    assert preferred_ids(api, cid) == [second["id"]]
    api.patch(f"/api/v1/phone_numbers/{first['id']}", {"is_preferred": True})
    assert preferred_ids(api, cid) == [first["id"]]
    api.patch(f"/api/v1/phone_numbers/{first['id']}", {"is_preferred": False})
    assert preferred_ids(api, cid) == []


def test_preferred_is_per_constituent(api: Api, cid: int) -> None:
    other = api.constituent()
    mine = api.number(cid, is_preferred=True)
    theirs = api.number(other, is_preferred=True)
    assert preferred_ids(api, cid) == [mine["id"]]
    assert preferred_ids(api, other) == [theirs["id"]]


# --- updates and timestamps ---


def test_empty_patch_changes_nothing(api: Api, cid: int) -> None:
    created = api.number(cid)
    response = api.patch(f"/api/v1/phone_numbers/{created['id']}", {})
    assert response.status_code == 200
    assert response.json() == created


def test_updated_at_moves_on_change_and_created_at_stays(
    api: Api, cid: int, database: Database
) -> None:
    created = api.number(cid)
    long_ago = datetime(2020, 1, 2, 3, 4, 5)
    with database.writing() as conn:
        conn.execute(update(phone_numbers).values(created_at=long_ago, updated_at=long_ago))
    response = api.patch(f"/api/v1/phone_numbers/{created['id']}", {"not_current": True})
    assert response.json()["created_at"] == "2020-01-02T03:04:05Z"
    assert response.json()["updated_at"] != "2020-01-02T03:04:05Z"
    assert response.json()["not_current"] is True


def test_an_invalid_patch_changes_nothing(api: Api, cid: int) -> None:
    created = api.number(cid)
    response = api.patch(
        f"/api/v1/phone_numbers/{created['id']}", {"number": "555-0199", "is_preferred": "maybe"}
    )
    assert response.status_code == 422
    assert api.get(f"/api/v1/phone_numbers/{created['id']}").json()["number"] == created["number"]


# --- delete and unknown ids ---


def test_delete_removes_the_number(api: Api, cid: int) -> None:
    created = api.number(cid)
    assert api.delete(f"/api/v1/phone_numbers/{created['id']}").status_code == 200
    assert api.get(f"/api/v1/phone_numbers/{created['id']}").status_code == 404
    assert api.delete(f"/api/v1/phone_numbers/{created['id']}").status_code == 404
    assert numbers_of(api, cid) == []


@pytest.mark.parametrize("number_id", [424242, 99999999999999999999999])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_numbers_are_404(api: Api, method: str, number_id: int) -> None:
    response = api.send(method, f"/api/v1/phone_numbers/{number_id}", b"{}")
    assert response.status_code == 404
    assert response.json()["error"] == "Not Found"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_numbers_of_an_unknown_constituent_are_404(api: Api, method: str) -> None:
    response = api.send(method, "/api/v1/constituents/424242/phone_numbers", b'{"number": "5"}')
    assert response.status_code == 404


@pytest.mark.parametrize("number", ["12\ud800", "\udc00555"])
def test_lone_surrogates_are_422(api: Api, cid: int, number: str) -> None:
    response = api.send(
        "POST",
        f"/api/v1/constituents/{cid}/phone_numbers",
        ('{"number": "' + number.encode("unicode_escape").decode() + '"}').encode(),
    )
    assert response.status_code == 422
    assert numbers_of(api, cid) == []


def test_a_lone_surrogate_in_an_unknown_key_is_named_safely(api: Api, cid: int) -> None:
    response = api.send(
        "POST", f"/api/v1/constituents/{cid}/phone_numbers", b'{"number": "5", "x\\ud800": 1}'
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["x\ud800"]
