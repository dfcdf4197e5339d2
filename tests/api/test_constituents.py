"""Constituents, the LGL subset phone numbers hang off (CONTRACT §1)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.contract_keys import CONSTITUENT_KEYS, EMBEDDED_NUMBER_KEYS


def show(api: Api, cid: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/constituents/{cid}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_show_has_lgl_keys_in_order_and_embeds_numbers(api: Api) -> None:
    cid = api.constituent(first_name="Ada", last_name="Lovelace", external_constituent_id="A-1")
    api.number(cid, is_preferred=True)
    body = show(api, cid)
    assert list(body) == CONSTITUENT_KEYS
    assert body["sort_name"] == "Lovelace, Ada"
    assert list(body["phone_numbers"][0]) == EMBEDDED_NUMBER_KEYS


def test_an_organisation_sorts_by_its_name(api: Api) -> None:
    cid = api.constituent(is_org="true", org_name="Green Trust", last_name=None)
    assert show(api, cid)["sort_name"] == "Green Trust"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "last_name"),
        ({"first_name": "Ada"}, "last_name"),
        ({"last_name": "   "}, "last_name"),
        ({"is_org": True, "last_name": "Doe"}, "org_name"),
        ({"last_name": "x" * 256}, "last_name"),
        ({"last_name": "Doe", "is_org": "perhaps"}, "is_org"),
        ({"last_name": "Doe", "nickname": "D"}, "nickname"),
        ({"last_name": 7}, "last_name"),
    ],
)
def test_invalid_creates_are_422_and_store_nothing(
    api: Api, body: dict[str, Any], field: str
) -> None:
    response = api.post("/api/v1/constituents", body)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert api.get("/api/v1/constituents").json()["total_items"] == 0


def test_create_with_numbers_stores_all_of_them(api: Api) -> None:
    body = {
        "last_name": "Doe",
        "phone_numbers": [
            {"number": "555-0100", "is_preferred": True},
            {"number": "555-0101", "phone_type_name": "Work", "is_preferred": True},
        ],
    }
    created = api.post("/api/v1/constituents", body).json()
    numbers = created["phone_numbers"]
    assert [n["number"] for n in numbers] == ["555-0100", "555-0101"]
    assert [n["is_preferred"] for n in numbers] == [False, True]


@pytest.mark.parametrize(
    ("numbers", "field"),
    [
        ([{"number": "555-0100"}, {"number": ""}], "phone_numbers[1].number"),
        ([{"number": "555-0100"}, {"phone_type_name": "Home"}], "phone_numbers[1].number"),
        ([{"number": "555-0100", "phone_type_name": "Nope"}], "phone_numbers[0].phone_type_name"),
        ([{"number": "555-0100", "colour": "red"}], "phone_numbers[0].colour"),
        (["555-0100"], "phone_numbers[0]"),
        ("555-0100", "phone_numbers"),
    ],
)
def test_create_with_a_bad_number_stores_nothing(api: Api, numbers: Any, field: str) -> None:
    response = api.post("/api/v1/constituents", {"last_name": "Doe", "phone_numbers": numbers})
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert api.get("/api/v1/constituents").json()["total_items"] == 0


def test_patch_changes_only_what_it_names(api: Api) -> None:
    cid = api.constituent(first_name="Ada", last_name="Lovelace")
    response = api.patch(f"/api/v1/constituents/{cid}", {"first_name": "Augusta"})
    assert response.status_code == 200
    assert (response.json()["first_name"], response.json()["last_name"]) == (
        "Augusta",
        "Lovelace",
    )


def test_a_fetched_constituent_can_be_sent_back(api: Api) -> None:
    cid = api.constituent(first_name="Ada")
    api.number(cid)
    fetched = show(api, cid)
    response = api.patch(f"/api/v1/constituents/{cid}", fetched)
    assert response.status_code == 200
    assert response.json() == fetched


def test_patch_cannot_remove_the_required_name(api: Api) -> None:
    cid = api.constituent()
    response = api.patch(f"/api/v1/constituents/{cid}", {"last_name": None})
    assert response.status_code == 422
    assert show(api, cid)["last_name"] == "Doe"


def test_delete_removes_its_numbers_too(api: Api) -> None:
    cid = api.constituent()
    number = api.number(cid)
    assert api.delete(f"/api/v1/constituents/{cid}").json() == {
        "api_version": "1.0",
        "result": "success",
    }
    assert api.get(f"/api/v1/constituents/{cid}").status_code == 404
    assert api.get(f"/api/v1/phone_numbers/{number['id']}").status_code == 404
    assert api.delete(f"/api/v1/constituents/{cid}").status_code == 404


def test_list_pages_constituents(api: Api) -> None:
    ids = [api.constituent(last_name=f"N{i}") for i in range(3)]
    body = api.get("/api/v1/constituents?limit=2").json()
    assert [c["id"] for c in body["items"]] == ids[:2]
    assert body["next_item"] == 2
    assert "phone_numbers" not in body["items"][0]


def test_list_expands_numbers_on_request(api: Api) -> None:
    cid = api.constituent()
    api.number(cid)
    body = api.get("/api/v1/constituents?expand=phone_numbers").json()
    assert len(body["items"][0]["phone_numbers"]) == 1
    assert api.get("/api/v1/constituents?expand=donations").status_code == 400


def test_types_list(api: Api) -> None:
    body = api.get("/api/v1/types/phone_number_types").json()
    assert body["item_type"] == "phone_number_type"
    assert body["total_items"] == 8
    assert body["items"][5] == {
        "id": 6,
        "name": "Skype",
        "display_name": "Skype",
        "code": "skype",
        "ordinal": 100,
    }
    assert [t["ordinal"] for t in body["items"]] == [100, 100, 100, 100, 101, 100, 101, 102]


def test_a_lone_surrogate_in_a_name_is_422(api: Api) -> None:
    response = api.send("POST", "/api/v1/constituents", b'{"last_name": "\\udc00x"}')
    assert response.status_code == 422
    assert "last_name" in response.json()["errors"]
