"""Reverse lookup: /constituents/search?q[]=phone_number=TERM (CONTRACT §7)."""

from __future__ import annotations

from typing import Any

import pytest

from phonebook.service import maintenance
from phonebook.store.database import Database
from tests.conftest import Api

SEARCH = "/api/v1/constituents/search"


def found(api: Api, *terms: str, **params: str) -> list[int]:
    response = api.get(SEARCH, params={"q[]": list(terms), **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["item_type"] == "constituent"
    return [item["id"] for item in body["items"]]


@pytest.fixture
def people(api: Api) -> dict[str, int]:
    ada = api.constituent(first_name="Ada", last_name="Lovelace", external_constituent_id="X1")
    api.number(ada, number="(888) 555-0044")
    grace = api.constituent(first_name="Grace", last_name="Hopper", external_constituent_id="X2")
    api.number(grace, number="+1 222 555 1212")
    api.number(grace, number="(888) 777-0000")
    org = api.constituent(is_org=True, org_name="Lovelace Trust")
    return {"ada": ada, "grace": grace, "org": org}


def test_phone_number_contains_digits(api: Api, people: dict[str, int]) -> None:
    assert found(api, "phone_number=555-0044") == [people["ada"]]
    assert found(api, "phone_number=888") == [people["ada"], people["grace"]]
    assert found(api, "phone_number=(222) 555") == [people["grace"]]
    assert found(api, "phone_number=999") == []


def test_a_constituent_with_two_matching_numbers_appears_once(
    api: Api, people: dict[str, int]
) -> None:
    assert found(api, "phone_number=8") == [people["ada"], people["grace"]]


@pytest.mark.parametrize("term", ["555", "5550199"])  # by trigrams, and by longer windows
def test_a_constituent_with_two_numbers_holding_the_term_counts_once(api: Api, term: str) -> None:
    """The indexed lookup reads the owners of matching numbers: one owner, one item."""
    twice = api.constituent(last_name="Twice")
    api.number(twice, number="(212) 555-0199")
    api.number(twice, number="(646) 555-0199")
    body = api.get(SEARCH, params={"q[]": f"phone_number={term}"}).json()
    assert [item["id"] for item in body["items"]] == [twice]
    assert body["total_items"] == 1


def test_name_and_external_id(api: Api, people: dict[str, int]) -> None:
    assert found(api, "name=lovelace") == [people["ada"], people["org"]]
    assert found(api, "name=GRACE") == [people["grace"]]
    assert found(api, "external_id=X2") == [people["grace"]]
    assert found(api, "external_id=X") == []
    assert found(api, "name=100%") == []


def test_terms_combine_with_and(api: Api, people: dict[str, int]) -> None:
    assert found(api, "name=lovelace", "phone_number=888") == [people["ada"]]


def test_expand_embeds_numbers(api: Api, people: dict[str, int]) -> None:
    response = api.get(SEARCH, params={"q[]": "phone_number=777", "expand": "phone_numbers"})
    items = response.json()["items"]
    assert [n["number"] for n in items[0]["phone_numbers"]] == ["+1 222 555 1212", "(888) 777-0000"]


@pytest.mark.parametrize(
    "term", ["email=a@b.org", "phone_number", "phone_number=", "phone_number=abc", "=5"]
)
def test_unsupported_or_empty_terms_are_400(api: Api, term: str) -> None:
    response = api.get(SEARCH, params={"q[]": term})
    assert response.status_code == 400
    if term.startswith("email"):
        assert "phone_number, name, external_id" in response.json()["description"]


def test_search_pages_like_any_list(api: Api, people: dict[str, int]) -> None:
    body = api.get(SEARCH, params={"q[]": "phone_number=8", "limit": "1"}).json()
    assert body["total_items"] == 2
    assert body["next_item"] == 1
    assert body["next_link"].endswith(
        "/api/v1/constituents/search?limit=1&offset=1&q%5B%5D=phone_number%3D8"
    )


def test_name_search_folds_case_beyond_ascii(api: Api) -> None:
    emile = api.constituent(first_name="Émile", last_name="Zoë-Ångström")
    assert found(api, "name=émile") == [emile]
    assert found(api, "name=ÉMILE") == [emile]
    assert found(api, "name=ZOË-ÅNG") == [emile]


def test_lookups_answer_by_id_after_restores_and_statistics(api: Api, database: Database) -> None:
    """The page comes back by id even where the planner scans the table in its own order
    (a restored or updated row sits at the end of a PostgreSQL heap)."""
    ids = []
    for n in range(6):
        cid = api.constituent(last_name=f"Order{n}")
        api.number(cid, number="(888) 555-0044")
        ids.append(cid)
    assert api.delete(f"/api/v1/constituents/{ids[0]}").status_code == 200
    assert api.post(f"/api/v1/constituents/{ids[0]}/restore").status_code == 200
    assert api.patch(f"/api/v1/constituents/{ids[1]}", {"last_name": "Changed"}).status_code == 200
    maintenance.optimize(database)  # ANALYZE: small tables then get sequential scans
    found = api.get("/api/v1/constituents/search", params={"q[]": "phone_number=5550044"})
    assert [c["id"] for c in found.json()["items"]] == ids
