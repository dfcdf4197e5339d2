"""Keys the three LGL ways; 401 and 403 (CONTRACT §6)."""

from __future__ import annotations

import base64

import pytest
from starlette.testclient import TestClient

from phonebook.service import accounts
from phonebook.store.database import Database
from tests.conftest import Api

LIST = "/api/v1/constituents"


def basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_bearer(api: Api) -> None:
    response = api.client.get(LIST, headers={"Authorization": f"Bearer {api.key}"})
    assert response.status_code == 200


def test_basic_with_the_key_as_user_name(api: Api) -> None:
    assert api.client.get(LIST, headers={"Authorization": basic(api.key)}).status_code == 200


def test_access_token_parameter(api: Api) -> None:
    assert api.client.get(LIST, params={"access_token": api.key}).status_code == 200


def test_the_same_key_twice_is_fine(api: Api) -> None:
    response = api.client.get(
        LIST, params={"access_token": api.key}, headers={"Authorization": f"Bearer {api.key}"}
    )
    assert response.status_code == 200


def test_two_different_credentials_are_400(api: Api, read_only_api: Api) -> None:
    response = api.client.get(
        LIST,
        params={"access_token": read_only_api.key},
        headers={"Authorization": f"Bearer {api.key}"},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer pb_not_a_real_key"},
        {"Authorization": "Token whatever"},
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Bearer " + "x" * 5000},
    ],
)
def test_missing_or_unknown_keys_are_401(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get(LIST, headers=headers)
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert response.json()["error"] == "Unauthorized"


def test_basic_with_a_password_is_401(api: Api) -> None:
    response = api.client.get(LIST, headers={"Authorization": basic(api.key, "secret")})
    assert response.status_code == 401


def test_a_revoked_key_is_401(api: Api, database: Database) -> None:
    assert accounts.revoke_key(database, api.key)
    assert api.get(LIST).status_code == 401


def test_read_only_keys_read(read_only_api: Api, api: Api) -> None:
    cid = api.constituent()
    number = api.number(cid)
    assert read_only_api.get(f"/api/v1/phone_numbers/{number['id']}").status_code == 200
    assert read_only_api.get(f"/api/v1/constituents/{cid}/phone_numbers").status_code == 200


def test_read_only_keys_cannot_write_and_change_nothing(read_only_api: Api, api: Api) -> None:
    cid = api.constituent()
    number = api.number(cid)
    path = f"/api/v1/phone_numbers/{number['id']}"
    attempts = [
        read_only_api.post(f"/api/v1/constituents/{cid}/phone_numbers", {"number": "555-0100"}),
        read_only_api.patch(path, {"number": "555-0100"}),
        read_only_api.delete(path),
        read_only_api.post("/api/v1/constituents", {"last_name": "X"}),
        read_only_api.patch(f"/api/v1/constituents/{cid}", {"last_name": "X"}),
        read_only_api.delete(f"/api/v1/constituents/{cid}"),
    ]
    assert [r.status_code for r in attempts] == [403] * 6
    assert api.get(path).json()["number"] == number["number"]
    listing = api.get(f"/api/v1/constituents/{cid}/phone_numbers").json()
    assert listing["total_items"] == 1
    assert api.get(LIST).json()["total_items"] == 1


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
