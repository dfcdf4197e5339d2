"""The OpenAPI document and the /docs page tell the truth about the app they describe."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import reduce
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.endpoints import HTTPEndpoint
from starlette.routing import Route
from starlette.testclient import TestClient

from phonebook.openapi import document
from phonebook.openapi.schemas import LAX_BOOLEAN_PATTERN, LAX_INTEGER_PATTERN
from phonebook.rules import constituent_input, phone_number_input
from phonebook.rules.fields import FieldError, lax_bool, lax_int
from tests.conftest import Api

Spec = dict[str, Any]
HTTP_METHODS = ("get", "put", "post", "patch", "delete")
WRITE_METHODS = ("post", "patch", "delete")


@pytest.fixture
def spec(client: TestClient) -> Spec:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: Spec = response.json()
    return body


def resolve(spec: Spec, node: Any) -> Any:
    """node with every $ref followed."""
    while isinstance(node, dict) and "$ref" in node:
        keys = node["$ref"].removeprefix("#/").split("/")
        node = reduce(lambda at, key: at[key], keys, spec)
    return node


def operations(spec: Spec) -> Iterator[tuple[str, str, Spec]]:
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield path, method, item[method]


def success_schema(spec: Spec, path: str, method: str) -> Spec:
    response = resolve(spec, spec["paths"][path][method]["responses"]["200"])
    schema: Spec = resolve(spec, response["content"]["application/json"]["schema"])
    return schema


def served_operations(client: TestClient) -> set[tuple[str, str]]:
    """(path, method) for every route the app serves, paths in OpenAPI's {name} form."""
    served = set()
    for route in client.app.routes:  # type: ignore[attr-defined]
        assert isinstance(route, Route)
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        endpoint = route.endpoint
        if isinstance(endpoint, type) and issubclass(endpoint, HTTPEndpoint):
            methods = {m for m in HTTP_METHODS if hasattr(endpoint, m)}
        else:
            methods = {m.lower() for m in route.methods or ()} - {"head"}
        served |= {(path, method) for method in methods}
    return served


# -- (a) the document itself ----------------------------------------------------


def test_openapi_json_is_an_openapi_3_1_document(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert re.fullmatch(r"3\.1\.\d+", body["openapi"])
    assert body["info"]["title"]
    assert body["info"]["version"]
    assert body["paths"]


def test_the_document_is_built_once() -> None:
    assert document() is document()


def test_every_ref_resolves(spec: Spec) -> None:
    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = list(refs(spec))
    assert found
    for ref in found:
        assert ref.startswith("#/")
        assert resolve(spec, {"$ref": ref}) is not None, ref


def test_security_schemes_are_the_three_lgl_ways(spec: Spec) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["basic"] == {**schemes["basic"], "type": "http", "scheme": "basic"}
    assert schemes["access_token"] == {
        **schemes["access_token"],
        "type": "apiKey",
        "in": "query",
        "name": "access_token",
    }


# -- (b) the document and the router agree ----------------------------------------


def test_every_served_route_is_documented_and_nothing_else(client: TestClient, spec: Spec) -> None:
    served = served_operations(client)
    documented = {(path, method) for path, method, _ in operations(spec)}
    assert ("/api/v1/phone_numbers/{id}", "patch") in served
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


def test_path_parameters_match_the_path(spec: Spec) -> None:
    for path, method, op in operations(spec):
        in_path = set(re.findall(r"\{(\w+)\}", path))
        params = [resolve(spec, p) for p in op.get("parameters", [])]
        declared = {p["name"] for p in params if p["in"] == "path"}
        assert declared == in_path, f"{method} {path}"
        assert all(p["required"] for p in params if p["in"] == "path")


# -- (c) each operation documents what it can answer --------------------------------


def api_operations(spec: Spec) -> list[tuple[str, str, Spec]]:
    found = [op for op in operations(spec) if op[0].startswith("/api/v1/")]
    assert len(found) == 16  # LGL's 12, plus history and restore for numbers and constituents
    return found


def test_api_operations_document_success_auth_and_errors(spec: Spec) -> None:
    for path, method, op in api_operations(spec):
        codes = set(op["responses"])
        where = f"{method} {path}"
        assert {"200", "400", "401", "503"} <= codes, where
        assert op["security"] == [{"bearer": []}, {"basic": []}, {"access_token": []}], where
        params = {resolve(spec, p)["name"] for p in op["parameters"]}
        assert "access_token" in params, where
        if method in WRITE_METHODS:
            assert {"403", "409"} <= codes, where
        else:
            assert "403" not in codes, f"{where}: a read-only key may read"
        if "requestBody" in op:
            assert {"413", "422"} <= codes, where
        if "{" in path:
            assert "404" in codes, where


def test_bodies_are_documented_on_post_and_patch_only(spec: Spec) -> None:
    for path, method, op in api_operations(spec):
        takes_body = method in ("post", "patch") and not path.endswith("/restore")
        assert ("requestBody" in op) == takes_body, f"{method} {path}"


def test_error_responses_use_the_lgl_error_body(spec: Spec) -> None:
    error = spec["components"]["schemas"]["Error"]
    assert list(error["properties"]) == ["api_version", "error", "description", "errors"]
    assert error["required"] == ["api_version", "error", "description"]
    for path, method, op in api_operations(spec):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                schema = resolve(spec, response)["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{method} {path}"


def test_list_operations_take_limit_and_offset(spec: Spec) -> None:
    for path, method, op in api_operations(spec):
        params = {resolve(spec, p)["name"] for p in op["parameters"]}
        is_list = success_schema(spec, path, method)["properties"].get("items") is not None
        assert ({"limit", "offset"} <= params) == is_list, f"{method} {path}"
    search = spec["paths"]["/api/v1/constituents/search"]["get"]["parameters"]
    assert {"q[]", "expand"} <= {resolve(spec, p)["name"] for p in search}


# -- (d) response schemas follow real responses, key for key ------------------------


def property_names(spec: Spec, name: str) -> list[str]:
    return list(spec["components"]["schemas"][name]["properties"])


def test_the_phone_number_schema_lists_the_contract_keys_in_order(spec: Spec, api: Api) -> None:
    created = api.number(api.constituent())
    schema = success_schema(spec, "/api/v1/phone_numbers/{id}", "get")
    assert list(schema["properties"]) == list(created)
    assert schema["required"] == list(created)
    shown = api.get(f"/api/v1/phone_numbers/{created['id']}").json()
    assert list(schema["properties"]) == list(shown)
    create = "/api/v1/constituents/{constituent_id}/phone_numbers"
    assert success_schema(spec, create, "post") == schema


def test_the_list_schemas_follow_a_real_page(spec: Spec, api: Api) -> None:
    constituent_id = api.constituent()
    api.number(constituent_id)
    api.number(constituent_id)
    page = api.get(f"/api/v1/constituents/{constituent_id}/phone_numbers?limit=1").json()
    assert "next_link" in page
    assert property_names(spec, "PhoneNumberList") == list(page)
    assert property_names(spec, "PhoneNumberItem") == list(page["items"][0])


def test_the_constituent_schemas_follow_real_responses(spec: Spec, api: Api) -> None:
    constituent_id = api.constituent()
    api.constituent()
    api.number(constituent_id)
    shown = api.get(f"/api/v1/constituents/{constituent_id}").json()
    assert property_names(spec, "Constituent") == list(shown)
    assert property_names(spec, "EmbeddedPhoneNumber") == list(shown["phone_numbers"][0])
    listed = api.get("/api/v1/constituents?limit=1&expand=phone_numbers").json()
    assert property_names(spec, "ConstituentList") == list(listed)
    assert property_names(spec, "ConstituentItem") == list(listed["items"][0])


def test_the_type_and_delete_schemas_follow_real_responses(spec: Spec, api: Api) -> None:
    types = api.get("/api/v1/types/phone_number_types").json()
    assert property_names(spec, "PhoneNumberType") == list(types["items"][0])
    number = api.number(api.constituent())
    deleted = api.delete(f"/api/v1/phone_numbers/{number['id']}").json()
    assert property_names(spec, "DeleteResult") == list(deleted)


def test_request_bodies_list_exactly_the_keys_the_parsers_know(spec: Spec) -> None:
    schemas = spec["components"]["schemas"]
    numbers = (*phone_number_input.WRITABLE, *phone_number_input.READ_ONLY)
    for name in ("PhoneNumberCreateBody", "PhoneNumberUpdateBody"):
        assert tuple(schemas[name]["properties"]) == numbers, name
        assert schemas[name]["additionalProperties"] is False
    assert schemas["PhoneNumberCreateBody"]["required"] == ["number"]
    people = (*constituent_input.WRITABLE, "phone_numbers", *constituent_input.READ_ONLY)
    assert set(schemas["ConstituentCreateBody"]["properties"]) == set(people)
    assert set(schemas["ConstituentUpdateBody"]["properties"]) == set(people)
    for key in phone_number_input.READ_ONLY:
        assert schemas["PhoneNumberUpdateBody"]["properties"][key]["readOnly"] is True


# -- the lax forms are described exactly as the parsers take them --------------------


def accepts(parse: Any, value: str) -> bool:
    try:
        parse(value)
    except FieldError:
        return False
    return True


LAX_SAMPLES = st.one_of(
    st.text(alphabet=" \t\n\x1c\u00a0\u2003+-019aeflrstuAEFLRSTU", max_size=8), st.text(max_size=6)
)


@given(LAX_SAMPLES)
@example(" 2 ")
@example("+2")
@example("2\n")
@example("\u00a02")
@example("2.0")
@example("\u0662")
@example("")
@example("-" + "9" * 19)
@example("1" * 20)
def test_the_lax_integer_pattern_matches_what_lax_int_accepts(value: str) -> None:
    assert bool(re.search(LAX_INTEGER_PATTERN, value)) == accepts(lax_int, value)


@given(LAX_SAMPLES)
@example(" TRUE ")
@example("False\n")
@example("0")
@example("yes")
@example("truee")
@example("")
def test_the_lax_boolean_pattern_matches_what_lax_bool_accepts(value: str) -> None:
    assert bool(re.search(LAX_BOOLEAN_PATTERN, value)) == accepts(lax_bool, value)


def test_lax_fields_are_described_with_their_lax_forms(spec: Spec) -> None:
    body = spec["components"]["schemas"]["PhoneNumberCreateBody"]["properties"]
    kinds = [variant.get("type") for variant in body["is_preferred"]["anyOf"]]
    assert kinds == ["boolean", "integer", "string"]
    type_id = [v.get("type") for v in body["phone_number_type_id"]["anyOf"]]
    assert type_id == [None, "null"]
    assert [v["type"] for v in body["phone_number_type_id"]["anyOf"][0]["anyOf"]] == [
        "integer",
        "string",
    ]


# -- (e) the human docs ---------------------------------------------------------------


def test_docs_is_a_self_contained_page_rendering_the_document(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert re.search(r"fetch\(\s*[\"']/openapi\.json[\"']", page)
    urls = re.findall(r"(?i)\bhttps?://[^\s\"'<>)]+", page)
    assert urls == [], f"external URLs: {urls}"
    assert not re.search(r"(?i)<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?//", page)
    assert not re.search(r"(?i)@import|url\(", page)
