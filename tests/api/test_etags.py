"""ETag on single objects; If-Match on PATCH and DELETE: a stale tag changes nothing (§8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api


def etag(response: Any) -> str:
    tag: str = response.headers["ETag"]
    assert tag.startswith('"')
    assert tag.endswith('"')
    return tag


@pytest.fixture
def number_path(api: Api) -> str:
    return f"/api/v1/phone_numbers/{api.number(api.constituent())['id']}"


def test_single_objects_carry_a_stable_etag(api: Api, number_path: str) -> None:
    first, second = api.get(number_path), api.get(number_path)
    assert etag(first) == etag(second)
    cid = api.constituent()
    assert etag(api.get(f"/api/v1/constituents/{cid}")) == etag(
        api.get(f"/api/v1/constituents/{cid}")
    )
    assert "ETag" not in api.get("/api/v1/constituents").headers


def test_the_etag_moves_with_the_object(api: Api, number_path: str) -> None:
    before = etag(api.get(number_path))
    updated = api.patch(number_path, {"number": "555-0199"})
    assert etag(updated) != before
    assert etag(updated) == etag(api.get(number_path))


def test_a_constituents_etag_moves_with_its_numbers(api: Api) -> None:
    cid = api.constituent()
    before = etag(api.get(f"/api/v1/constituents/{cid}"))
    api.number(cid)
    assert etag(api.get(f"/api/v1/constituents/{cid}")) != before


def test_patch_with_the_current_tag_applies(api: Api, number_path: str) -> None:
    tag = etag(api.get(number_path))
    response = api.patch(number_path, {"not_current": True}, headers={"If-Match": tag})
    assert response.status_code == 200
    assert response.json()["not_current"] is True


@pytest.mark.parametrize("header", ['"stale"', 'W/"weak"', ""])
def test_patch_with_a_stale_tag_is_412_and_changes_nothing(
    api: Api, number_path: str, header: str
) -> None:
    before = api.get(number_path).json()
    response = api.patch(number_path, {"number": "555-0199"}, headers={"If-Match": header})
    assert response.status_code == 412
    assert response.json()["error"] == "Precondition Failed"
    assert response.headers["ETag"] == etag(api.get(number_path))
    assert api.get(number_path).json() == before


def test_a_tag_from_before_a_change_is_stale(api: Api, number_path: str) -> None:
    old = etag(api.get(number_path))
    api.patch(number_path, {"number": "555-0101"})
    response = api.patch(number_path, {"number": "555-0102"}, headers={"If-Match": old})
    assert response.status_code == 412
    assert api.get(number_path).json()["number"] == "555-0101"


def test_star_and_lists_match(api: Api, number_path: str) -> None:
    tag = etag(api.get(number_path))
    assert api.patch(number_path, {}, headers={"If-Match": "*"}).status_code == 200
    listed = f'"other", {tag}'
    assert api.patch(number_path, {}, headers={"If-Match": listed}).status_code == 200


def test_delete_with_a_stale_tag_keeps_the_object(api: Api, number_path: str) -> None:
    assert api.delete(number_path, headers={"If-Match": '"stale"'}).status_code == 412
    assert api.get(number_path).status_code == 200
    tag = etag(api.get(number_path))
    assert api.delete(number_path, headers={"If-Match": tag}).status_code == 200
    assert api.get(number_path).status_code == 404


def test_constituents_honour_if_match(api: Api) -> None:
    cid = api.constituent(first_name="Ada")
    path = f"/api/v1/constituents/{cid}"
    tag = etag(api.get(path))
    api.number(cid)  # the embedded numbers changed: the tag is stale
    assert api.patch(path, {"first_name": "Augusta"}, headers={"If-Match": tag}).status_code == 412
    assert api.delete(path, headers={"If-Match": tag}).status_code == 412
    assert api.get(path).json()["first_name"] == "Ada"
    fresh = etag(api.get(path))
    assert (
        api.patch(path, {"first_name": "Augusta"}, headers={"If-Match": fresh}).status_code == 200
    )


@pytest.mark.parametrize("header", ["*", '"anything"'])
def test_another_accounts_object_stays_404_whatever_if_match_says(
    api: Api, other_api: Api, header: str
) -> None:
    theirs = other_api.number(other_api.constituent())
    path = f"/api/v1/phone_numbers/{theirs['id']}"
    assert api.patch(path, {"number": "5"}, headers={"If-Match": header}).status_code == 404
    assert api.delete(path, headers={"If-Match": header}).status_code == 404
    assert other_api.get(path).json()["number"] == theirs["number"]


def test_the_openapi_document_describes_conditional_requests(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    for path, method in [
        ("/api/v1/phone_numbers/{id}", "patch"),
        ("/api/v1/phone_numbers/{id}", "delete"),
        ("/api/v1/constituents/{id}", "patch"),
        ("/api/v1/constituents/{id}", "delete"),
    ]:
        operation = spec["paths"][path][method]
        assert "412" in operation["responses"], (path, method)
        assert {"$ref": "#/components/parameters/IfMatch"} in operation["parameters"]
    shown = spec["paths"]["/api/v1/phone_numbers/{id}"]["get"]["responses"]["200"]
    assert "ETag" in shown["headers"]
