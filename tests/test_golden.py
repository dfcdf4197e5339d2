"""The source document's examples, as golden tests: same keys, order and values.

Ids and timestamps differ by nature; every other value, every key and their
order must equal LGL's own examples in ../shared/spec/lgl-phone-number-management.md.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import Api

VOLATILE = {"id", "item_id", "created_at", "updated_at"}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

# Copied from the source document, byte for byte but for whitespace.
LIST_EXAMPLE: dict[str, Any] = {
    "api_version": "1.0",
    "items_count": 1,
    "total_items": 1,
    "limit": 25,
    "offset": 0,
    "item_type": "phone_number",
    "items": [
        {
            "id": 479627,
            "item_id": 959480,
            "item_type": "Constituent",
            "number": "(888) 555-0044",
            "phone_number_type_id": 3,
            "phone_type_name": "Mobile",
            "is_preferred": True,
            "not_current": False,
            "parent_id": None,
            "normalized_number": "8885550044",
            "created_at": "2023-09-18T18:25:01Z",
            "updated_at": "2023-09-19T22:34:56Z",
        }
    ],
}
CREATE_RESPONSE: dict[str, Any] = {
    "api_version": "1.0",
    "id": 479746,
    "item_id": 959480,
    "item_type": "Constituent",
    "number": "222-555-1212",
    "phone_number_type_id": 1,
    "phone_type_name": "Home",
    "is_preferred": False,
    "not_current": False,
    "parent_id": None,
    "normalized_number": "2225551212",
    "created_at": "2025-06-03T17:08:54Z",
    "updated_at": "2025-06-03T17:08:54Z",
}
UPDATE_RESPONSE = {**CREATE_RESPONSE, "phone_number_type_id": 2, "phone_type_name": "Work"}
DELETE_RESPONSE = {"api_version": "1.0", "result": "success"}


def assert_matches(actual: dict[str, Any], golden: dict[str, Any]) -> None:
    """Same keys in the same order, same values but for ids and times, same types."""
    assert list(actual) == list(golden)
    for key, expected in golden.items():
        value = actual[key]
        assert type(value) is type(expected), key
        if key in VOLATILE:
            if key.endswith("_at"):
                assert TIMESTAMP.fullmatch(value), value
            continue
        if isinstance(expected, list):
            assert len(value) == len(expected)
            for item, golden_item in zip(value, expected, strict=True):
                assert_matches(item, golden_item)
        else:
            assert value == expected, key


@pytest.fixture
def constituent_id(api: Api) -> int:
    return api.constituent(first_name="Golden", last_name="Example")


def test_fetch_phone_numbers(api: Api, constituent_id: int) -> None:
    api.number(constituent_id, number="(888) 555-0044", phone_number_type_id=3, is_preferred=True)
    response = api.get(f"/api/v1/constituents/{constituent_id}/phone_numbers")
    assert response.status_code == 200
    body = response.json()
    assert_matches(body, LIST_EXAMPLE)
    assert body["items"][0]["item_id"] == constituent_id


def test_create_phone_number(api: Api, constituent_id: int) -> None:
    response = api.send(
        "POST",
        f"/api/v1/constituents/{constituent_id}/phone_numbers",
        b'{\n  "number": "222-555-1212"\n}',
    )
    assert response.status_code == 200
    body = response.json()
    assert_matches(body, CREATE_RESPONSE)
    assert body["item_id"] == constituent_id
    assert body["created_at"] == body["updated_at"]


def test_show_phone_number(api: Api, constituent_id: int) -> None:
    created = api.number(constituent_id, number="222-555-1212")
    response = api.get(f"/api/v1/phone_numbers/{created['id']}")
    assert response.status_code == 200
    assert_matches(response.json(), CREATE_RESPONSE)
    assert response.json()["id"] == created["id"]


def test_update_phone_number(api: Api, constituent_id: int) -> None:
    created = api.number(constituent_id, number="222-555-1212")
    response = api.send(
        "PATCH", f"/api/v1/phone_numbers/{created['id']}", b'{\n  "phone_number_type_id": 2\n}'
    )
    assert response.status_code == 200
    assert_matches(response.json(), UPDATE_RESPONSE)


def test_delete_phone_number(api: Api, constituent_id: int) -> None:
    created = api.number(constituent_id)
    response = api.delete(f"/api/v1/phone_numbers/{created['id']}")
    assert response.status_code == 200
    assert list(response.json().items()) == list(DELETE_RESPONSE.items())


def test_responses_are_utf8_json(api: Api, constituent_id: int) -> None:
    created = api.number(constituent_id, number="+44 20 7946 0958 (Zoë)")
    response = api.get(f"/api/v1/phone_numbers/{created['id']}")
    assert response.headers["content-type"].startswith("application/json")
    assert "Zoë".encode() in response.content
