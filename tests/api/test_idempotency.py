"""Idempotency-Key on POST (CONTRACT §8): a retry replays the first answer, writes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from phonebook.clock import utc_now
from phonebook.store.database import Database
from phonebook.store.tables import idempotency_keys
from tests.conftest import Api


def numbers_of(api: Api, cid: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.get(f"/api/v1/constituents/{cid}/phone_numbers").json()[
        "items"
    ]
    return items


def post_number(api: Api, cid: int, body: Any, key: str) -> Any:
    return api.post(
        f"/api/v1/constituents/{cid}/phone_numbers", body, headers={"Idempotency-Key": key}
    )


@pytest.fixture
def cid(api: Api) -> int:
    return api.constituent()


def test_a_retry_replays_the_first_answer_without_writing(api: Api, cid: int) -> None:
    first = post_number(api, cid, {"number": "555-0100"}, "k-1")
    again = post_number(api, cid, {"number": "555-0100"}, "k-1")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(numbers_of(api, cid)) == 1


def test_a_new_key_writes_again(api: Api, cid: int) -> None:
    post_number(api, cid, {"number": "555-0100"}, "k-1")
    post_number(api, cid, {"number": "555-0100"}, "k-2")
    assert len(numbers_of(api, cid)) == 2


def test_the_same_key_with_another_body_is_422(api: Api, cid: int) -> None:
    post_number(api, cid, {"number": "555-0100"}, "k-1")
    response = post_number(api, cid, {"number": "555-0199"}, "k-1")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["errors"]
    assert [n["number"] for n in numbers_of(api, cid)] == ["555-0100"]


def test_an_error_answer_is_replayed_too(api: Api, cid: int) -> None:
    first = post_number(api, cid, {"number": ""}, "k-bad")
    again = post_number(api, cid, {"number": ""}, "k-bad")
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()


def test_keys_belong_to_their_account(api: Api, other_api: Api, cid: int) -> None:
    post_number(api, cid, {"number": "555-0100"}, "shared")
    theirs = other_api.constituent()
    response = post_number(other_api, theirs, {"number": "555-0100"}, "shared")
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response.headers
    assert len(numbers_of(other_api, theirs)) == 1


def test_after_24_hours_a_key_is_new_again(api: Api, cid: int, database: Database) -> None:
    post_number(api, cid, {"number": "555-0100"}, "k-old")
    with database.writing() as conn:
        conn.execute(update(idempotency_keys).values(created_at=utc_now() - timedelta(hours=25)))
    response = post_number(api, cid, {"number": "555-0100"}, "k-old")
    assert "Idempotent-Replayed" not in response.headers
    assert len(numbers_of(api, cid)) == 2


def test_constituent_creates_are_idempotent(api: Api) -> None:
    body = {"last_name": "Doe", "phone_numbers": [{"number": "555-0100"}]}
    first = api.post("/api/v1/constituents", body, headers={"Idempotency-Key": "c-1"})
    again = api.post("/api/v1/constituents", body, headers={"Idempotency-Key": "c-1"})
    assert again.content == first.content
    assert api.get("/api/v1/constituents").json()["total_items"] == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_malformed_key_is_400(api: Api, cid: int, key: str) -> None:
    response = api.client.post(
        f"/api/v1/constituents/{cid}/phone_numbers",
        json={"number": "555-0100"},
        headers={"Authorization": f"Bearer {api.key}", "Idempotency-Key": key},
    )
    assert response.status_code == 400
    assert numbers_of(api, cid) == []


def test_a_key_still_running_in_this_process_is_409(api: Api, cid: int) -> None:
    in_flight: set[tuple[int, str]] = api.client.app.state.idempotency_in_flight  # type: ignore[attr-defined]
    in_flight.add((api.account_id, "busy"))
    try:
        response = post_number(api, cid, {"number": "555-0100"}, "busy")
    finally:
        in_flight.discard((api.account_id, "busy"))
    assert response.status_code == 409
    assert numbers_of(api, cid) == []
    assert post_number(api, cid, {"number": "555-0100"}, "busy").status_code == 200


def test_the_openapi_document_describes_the_header(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    for path in ("/api/v1/constituents/{constituent_id}/phone_numbers", "/api/v1/constituents"):
        parameters = spec["paths"][path]["post"]["parameters"]
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in parameters
