"""The hottest routes skip Starlette's router (api.direct) and answer exactly as it would."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.testclient import TestClient

from phonebook.api import phone_numbers
from phonebook.api.direct import DirectRoutes, PhonebookApp
from phonebook.api.responses import _PRIVATE, JSON_TYPE, JsonResponse
from phonebook.service import phone_numbers as phone_number_service
from tests.conftest import Api

DIRECT = DirectRoutes(phone_numbers.direct_routes)


def _scope(method: str, path: str, root_path: str = "") -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": root_path}


@pytest.mark.parametrize(
    ("method", "path", "handler", "params"),
    [
        ("GET", "/api/v1/phone_numbers/12", phone_numbers.show_number, {"id": "12"}),
        ("HEAD", "/api/v1/phone_numbers/12", phone_numbers.show_number, {"id": "12"}),
        (
            "GET",
            "/api/v1/constituents/7/phone_numbers",
            phone_numbers.list_numbers,
            {"constituent_id": "7"},
        ),
        (
            "POST",
            "/api/v1/constituents/7/phone_numbers",
            phone_numbers.create_number,
            {"constituent_id": "7"},
        ),
        ("PATCH", "/api/v1/phone_numbers/12", phone_numbers.update_number, {"id": "12"}),
        ("DELETE", "/api/v1/phone_numbers/12", phone_numbers.delete_number, {"id": "12"}),
    ],
)
def test_the_hot_routes_are_found(method: str, path: str, handler: object, params: object) -> None:
    assert DIRECT.find(_scope(method, path)) == (handler, params)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/phone_numbers/12"),  # Starlette answers 405 with Allow
        ("POST", "/api/v1/phone_numbers/12"),
        ("DELETE", "/api/v1/constituents/7/phone_numbers"),
        ("POST", "/api/v1/phone_numbers/12/restore"),
        ("GET", "/api/v1/phone_numbers/12/"),
        ("GET", "/api/v1/phone_numbers/12/history"),
        ("GET", "/api/v1/phone_numbers/x"),
        ("GET", "/api/v1/phone_numbers"),
        ("GET", "/api/v1/constituents/7"),
    ],
)
def test_everything_else_goes_through_starlette(method: str, path: str) -> None:
    assert DIRECT.find(_scope(method, path)) is None


def test_a_root_path_goes_through_starlette() -> None:
    assert DIRECT.find(_scope("GET", "/api/v1/phone_numbers/12", root_path="/pb")) is None


def test_the_hot_routes_never_reach_starlettes_middleware(api: Api) -> None:
    constituent = api.constituent()
    number = api.number(constituent)["id"]
    app = api.client.app
    assert isinstance(app, PhonebookApp)

    async def refuse(*_args: object) -> None:
        raise AssertionError("through Starlette")

    app.middleware_stack = refuse
    assert api.get(f"/api/v1/phone_numbers/{number}").status_code == 200
    assert api.get(f"/api/v1/constituents/{constituent}/phone_numbers").status_code == 200
    assert api.patch(f"/api/v1/phone_numbers/{number}", {"not_current": True}).status_code == 200
    created = api.post(f"/api/v1/constituents/{constituent}/phone_numbers", {"number": "555-0100"})
    assert created.status_code == 200
    assert api.delete(f"/api/v1/phone_numbers/{created.json()['id']}").status_code == 200
    assert api.get(f"/api/v1/constituents/{constituent}").status_code == 500


Whole = tuple[int, list[tuple[str, str]], bytes]


def _whole(response: Any) -> Whole:
    return response.status_code, response.headers.multi_items(), response.content


def _answers(api: Api, paths: list[str]) -> list[Whole]:
    return [
        _whole(api.client.request(method, path, headers=api._headers()))
        for method in ("GET", "HEAD")
        for path in paths
    ]


def test_direct_answers_equal_starlettes_byte_for_byte(api: Api, other_api: Api) -> None:
    """Same status, headers (in order) and body through either dispatch, errors included."""
    constituent = api.constituent()
    number = api.number(constituent)["id"]
    paths = [
        f"/api/v1/phone_numbers/{number}",
        f"/api/v1/phone_numbers/{number + 1000}",  # 404
        "/api/v1/phone_numbers/" + "9" * 40,  # 404: not a storable id
        f"/api/v1/constituents/{constituent}/phone_numbers",
        f"/api/v1/constituents/{constituent}/phone_numbers?limit=1&offset=0",
        f"/api/v1/constituents/{constituent}/phone_numbers?limit=x",  # 400
        f"/api/v1/constituents/{constituent + 1000}/phone_numbers",  # 404
    ]
    app = api.client.app
    assert isinstance(app, PhonebookApp)
    direct = _answers(api, paths)
    unauthenticated = _whole(api.client.get(paths[0]))
    foreign = _whole(other_api.get(paths[0]))
    app.direct = None
    try:
        assert _answers(api, paths) == direct
        assert _whole(api.client.get(paths[0])) == unauthenticated
        assert _whole(other_api.get(paths[0])) == foreign
    finally:
        app.direct = DIRECT
    assert (unauthenticated[0], foreign[0]) == (401, 404)
    assert [status for status, _, _ in direct[: len(paths)]] == [200, 404, 404, 200, 200, 400, 404]


def _writes(api: Api, constituent: int, number: int) -> list[Whole]:
    """Write requests that change nothing, so each can be sent through both dispatches."""
    numbers = f"/api/v1/constituents/{constituent}/phone_numbers"
    one = f"/api/v1/phone_numbers/{number}"
    valid = b'{"number": "555-0100"}'
    sends = [
        ("POST", numbers, b'{"number": "not a number"}', {}),  # 422
        ("POST", numbers, b"{", {}),  # 400: not JSON
        ("POST", f"/api/v1/constituents/{constituent + 1000}/phone_numbers", valid, {}),
        ("PATCH", one, b'{"phone_number_type_id": 999}', {}),  # 422
        ("PATCH", one, b'{"not_current": false}', {"If-Match": '"stale"'}),  # 412
        ("PATCH", one, b"{}", {}),  # 200, nothing to change
        ("PATCH", f"/api/v1/phone_numbers/{number + 1000}", b"{}", {}),  # 404
        ("DELETE", f"/api/v1/phone_numbers/{number + 1000}", b"", {}),  # 404
        ("DELETE", one, b"", {"If-Match": '"stale"'}),  # 412
        ("PUT", one, b"{}", {}),  # 405, from Starlette either way
    ]
    return [
        _whole(api.send(method, path, body, **{"Content-Type": "application/json", **extra}))
        for method, path, body, extra in sends
    ]


def test_direct_writes_equal_starlettes_byte_for_byte(api: Api, other_api: Api) -> None:
    constituent = api.constituent()
    number = api.number(constituent)["id"]
    app = api.client.app
    assert isinstance(app, PhonebookApp)
    direct = _writes(api, constituent, number)
    created_directly = api.number(constituent)
    app.direct = None
    try:
        assert _writes(api, constituent, number) == direct
        through_starlette = api.number(constituent)
    finally:
        app.direct = DIRECT
    statuses = [status for status, _, _ in direct]
    assert statuses == [422, 400, 404, 422, 412, 200, 404, 404, 412, 405]
    assert created_directly.keys() == through_starlette.keys()
    assert created_directly["id"] + 1 == through_starlette["id"]
    assert api.get(f"/api/v1/phone_numbers/{number}").status_code == 200  # nothing was deleted


def test_an_unexpected_failure_is_a_500_and_reaches_the_server(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As through Starlette: the bare 500 answers, then the error goes on to be logged."""

    def explode(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(phone_number_service, "get", explode)
    response = api.get("/api/v1/phone_numbers/1")
    assert response.status_code == 500
    assert response.json()["error"] == "Internal Server Error"
    raising = TestClient(api.client.app, raise_server_exceptions=True)  # no lifespan: shares it
    with pytest.raises(RuntimeError, match="boom"):
        raising.get("/api/v1/phone_numbers/1", headers=api._headers())


@pytest.mark.parametrize(
    "headers",
    [
        None,
        {},
        {"ETag": '"abc"'},
        {"Retry-After": "1", "Allow": "GET, HEAD"},
        {"Cache-Control": "x"},
    ],
)
def test_json_response_headers_are_starlettes(headers: dict[str, str] | None) -> None:
    body = b'{"a":1}'
    expected = Response(body, 201, {**_PRIVATE, **(headers or {})}, JSON_TYPE)
    built = JsonResponse(body, 201, headers)
    assert built.raw_headers == expected.raw_headers
    assert (built.status_code, built.body) == (201, body)


def test_direct_routes_refuse_an_app_with_middleware() -> None:
    """Middleware, debug pages or a body limit would silently not apply to them."""
    app = PhonebookApp(middleware=[Middleware(GZipMiddleware)])
    with pytest.raises(ValueError, match="skipped"):
        app.answer_directly(DIRECT)
    assert app.direct is None
