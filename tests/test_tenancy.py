"""Another account's objects answer exactly like missing ones, on every route (CONTRACT §6)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

MISSING = 987654321


@pytest.fixture
def theirs(other_api: Api) -> dict[str, int]:
    """Account B's constituent and number, and a number and a constituent B has deleted."""
    cid = other_api.constituent(
        first_name="Secret", last_name="Person", external_constituent_id="S"
    )
    number = other_api.number(cid, number="(555) 867-5309", is_preferred=True)
    # Deleted, so it has a history and could be restored, but only by B.
    gone = other_api.number(cid, number="(555) 867-1111")
    assert other_api.delete(f"/api/v1/phone_numbers/{gone['id']}").status_code == 200
    gone_cid = other_api.constituent(last_name="Departed")
    assert other_api.delete(f"/api/v1/constituents/{gone_cid}").status_code == 200
    return {
        "constituent": cid,
        "number": number["id"],
        "deleted_number": gone["id"],
        "deleted_constituent": gone_cid,
    }


def same_as_missing(api: Api, method: str, template: str, their_id: int, body: Any) -> None:
    """The answer for their id equals the answer for an id nobody has, but for the id."""
    content = b"{}" if body is None else body
    for_theirs = api.send(method, template.format(their_id), content)
    for_missing = api.send(method, template.format(MISSING), content)
    assert for_theirs.status_code == for_missing.status_code == 404
    theirs_body, missing_body = for_theirs.json(), for_missing.json()
    theirs_body["description"] = theirs_body["description"].replace(f" {their_id}.", " ID.")
    missing_body["description"] = missing_body["description"].replace(f" {MISSING}.", " ID.")
    assert theirs_body == missing_body
    assert for_theirs.headers.keys() == for_missing.headers.keys()


@pytest.mark.parametrize(
    ("method", "template", "kind", "body"),
    [
        ("GET", "/api/v1/phone_numbers/{}", "number", None),
        ("PATCH", "/api/v1/phone_numbers/{}", "number", b'{"number": "555-0000"}'),
        ("DELETE", "/api/v1/phone_numbers/{}", "number", None),
        ("GET", "/api/v1/constituents/{}/phone_numbers", "constituent", None),
        ("POST", "/api/v1/constituents/{}/phone_numbers", "constituent", b'{"number": "5"}'),
        ("GET", "/api/v1/constituents/{}", "constituent", None),
        ("PATCH", "/api/v1/constituents/{}", "constituent", b'{"last_name": "Mine"}'),
        ("DELETE", "/api/v1/constituents/{}", "constituent", None),
        ("GET", "/api/v1/phone_numbers/{}/history", "number", None),
        ("GET", "/api/v1/phone_numbers/{}/history", "deleted_number", None),
        ("GET", "/api/v1/constituents/{}/history", "constituent", None),
        ("GET", "/api/v1/constituents/{}/history", "deleted_constituent", None),
        ("POST", "/api/v1/phone_numbers/{}/restore", "number", None),
        ("POST", "/api/v1/phone_numbers/{}/restore", "deleted_number", None),
        ("POST", "/api/v1/constituents/{}/restore", "constituent", None),
        ("POST", "/api/v1/constituents/{}/restore", "deleted_constituent", None),
    ],
)
def test_their_ids_answer_like_missing_ones(
    api: Api,
    other_api: Api,
    theirs: dict[str, int],
    method: str,
    template: str,
    kind: str,
    body: bytes | None,
) -> None:
    before = their_state(other_api, theirs)
    same_as_missing(api, method, template, theirs[kind], body)
    assert their_state(other_api, theirs) == before


def their_state(other_api: Api, theirs: dict[str, int]) -> list[Any]:
    """What B sees of its objects: its constituent, and every history."""
    shown = [other_api.get(f"/api/v1/constituents/{theirs['constituent']}").json()]
    for kind, route in [
        ("constituent", "constituents"),
        ("deleted_constituent", "constituents"),
        ("number", "phone_numbers"),
        ("deleted_number", "phone_numbers"),
    ]:
        response = other_api.get(f"/api/v1/{route}/{theirs[kind]}/history")
        assert response.status_code == 200, response.text
        shown.append(response.json())
    return shown


def test_lists_and_search_show_only_their_own(api: Api, theirs: dict[str, int]) -> None:
    mine = api.constituent(first_name="Secret", last_name="Mine", external_constituent_id="S")
    api.number(mine, number="(555) 867-0000")
    listing = api.get("/api/v1/constituents?expand=phone_numbers").json()
    assert [c["id"] for c in listing["items"]] == [mine]
    assert listing["total_items"] == 1
    for term in ("phone_number=8675309", "name=secret", "external_id=S", "phone_number=555"):
        body = api.get("/api/v1/constituents/search", params={"q[]": term}).json()
        assert theirs["constituent"] not in [c["id"] for c in body["items"]], term
        assert "5309" not in str(body)


def test_making_mine_preferred_leaves_theirs_alone(
    api: Api, other_api: Api, theirs: dict[str, int]
) -> None:
    mine = api.constituent()
    api.number(mine, is_preferred=True)
    assert other_api.get(f"/api/v1/phone_numbers/{theirs['number']}").json()["is_preferred"]
