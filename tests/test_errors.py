"""Every error status of CONTRACT §6, each in the one LGL error shape, leaking nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.testclient import TestClient

from phonebook.service import phone_numbers as phone_number_service
from tests.conftest import Api

ERROR_KEYS = ["api_version", "error", "description"]


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert list(body)[:3] == ERROR_KEYS
    assert set(body) <= {*ERROR_KEYS, "errors"}
    assert body["api_version"] == "1.0"
    assert body["error"]
    assert body["description"]
    for leak in ("Traceback", "sqlalchemy", "SELECT", "sqlite", 'File "'):
        assert leak not in response.text
    if "errors" in body:
        assert all(isinstance(m, list) and m for m in body["errors"].values())
    return body


@pytest.fixture
def number_path(api: Api) -> str:
    return f"/api/v1/phone_numbers/{api.number(api.constituent())['id']}"


@pytest.mark.parametrize(
    "content",
    [b"", b"{", b"nope", b"\xff\xfe\x00garbage", b'{"number": NaN}', b"[" * 30_000 + b"]" * 30_000],
)
def test_a_body_that_is_not_json_is_400(api: Api, number_path: str, content: bytes) -> None:
    assert_error_shape(api.send("PATCH", number_path, content), 400)


@pytest.mark.parametrize("content", [b"[]", b"3", b"null", b'"number"', b"true"])
def test_a_body_that_is_not_an_object_is_400(api: Api, number_path: str, content: bytes) -> None:
    assert_error_shape(api.send("PATCH", number_path, content), 400)


def test_the_declared_content_type_does_not_matter(api: Api, number_path: str) -> None:
    response = api.send(
        "PATCH",
        number_path,
        b'{"not_current": true}',
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.json()["not_current"] is True


@pytest.mark.parametrize(
    "query", ["limit=abc", "limit=-1", "limit=0", "offset=-5", "offset=1.5", "limit="]
)
def test_bad_paging_parameters_are_400(api: Api, query: str) -> None:
    cid = api.constituent()
    body = assert_error_shape(api.get(f"/api/v1/constituents/{cid}/phone_numbers?{query}"), 400)
    assert set(body["errors"]) <= {"limit", "offset"}


def test_limit_over_the_maximum_is_clamped(api: Api) -> None:
    cid = api.constituent()
    assert api.get(f"/api/v1/constituents/{cid}/phone_numbers?limit=500").json()["limit"] == 100


def test_a_body_over_64_kib_is_413(api: Api, number_path: str) -> None:
    padding = "x" * (64 * 1024)
    response = api.send("PATCH", number_path, f'{{"number": "5", "pad": "{padding}"}}'.encode())
    assert_error_shape(response, 413)


def test_a_streamed_body_over_64_kib_is_413(api: Api, number_path: str) -> None:
    def chunks() -> Any:
        for _ in range(20):
            yield b" " * 4096

    response = api.client.request(
        "PATCH", number_path, content=chunks(), headers={"Authorization": f"Bearer {api.key}"}
    )
    assert_error_shape(response, 413)


def test_an_unknown_route_is_404(api: Api) -> None:
    assert_error_shape(api.get("/api/v1/phone_number/1"), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/phone_numbers/1", {"GET", "PATCH", "DELETE"}),
        ("POST", "/api/v1/phone_numbers/1", {"GET", "PATCH", "DELETE"}),
        ("DELETE", "/api/v1/constituents/1/phone_numbers", {"GET", "POST"}),
        ("POST", "/api/v1/types/phone_number_types", {"GET"}),
        # "search" is no id: /constituents/{id} must not take these (a fuzzer found it).
        ("PATCH", "/api/v1/constituents/search", {"GET"}),
        ("DELETE", "/api/v1/constituents/search", {"GET"}),
    ],
)
def test_a_wrong_method_is_405_with_allow(
    api: Api, method: str, path: str, allowed: set[str]
) -> None:
    response = api.send(method, path, b"{}")
    assert_error_shape(response, 405)
    assert {m.strip() for m in response.headers["Allow"].split(",")} - {"HEAD"} == allowed


def test_an_unexpected_failure_is_a_bare_500(
    api: Api, number_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object) -> None:
        raise RuntimeError("SELECT secret FROM other_account")

    monkeypatch.setattr(phone_number_service, "get", explode)
    body = assert_error_shape(api.get(number_path), 500)
    assert "secret" not in str(body)


def test_a_busy_database_is_503_with_retry_after(
    api: Api, number_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(*_args: object) -> None:
        raise OperationalError("UPDATE phone_numbers", {}, Exception("database is locked"))

    monkeypatch.setattr(phone_number_service, "update", busy)
    response = api.patch(number_path, {"not_current": True})
    assert_error_shape(response, 503)
    assert response.headers["Retry-After"] == "1"


def test_a_constraint_race_is_409(
    api: Api, number_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def collided(*_args: object) -> None:
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(phone_number_service, "update", collided)
    assert_error_shape(api.patch(number_path, {"is_preferred": True}), 409)


def test_every_error_status_has_the_one_shape(
    api: Api, read_only_api: Api, client: TestClient, number_path: str
) -> None:
    """One walk over 400, 401, 403, 404, 405, 413 and 422."""
    responses = {
        400: api.send("PATCH", number_path, b"{"),
        401: client.get(number_path),
        403: read_only_api.delete(number_path),
        404: api.get("/api/v1/phone_numbers/987654"),
        405: api.send("PUT", number_path, b"{}"),
        413: api.send("PATCH", number_path, b" " * (64 * 1024 + 1)),
        422: api.patch(number_path, {"bogus": 1}),
    }
    for status, response in responses.items():
        assert_error_shape(response, status)
