"""Paging a constituent's phone numbers over HTTP (CONTRACT §5)."""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Api

ENVELOPE_HEAD = ["api_version", "items_count", "total_items", "limit", "offset"]
ENVELOPE_TAIL = ["item_type", "items"]
MAX_LIMIT = 100

# Extra query parameters a client may send: next_link carries them on.
extra_params = st.dictionaries(
    st.sampled_from(["zeta", "alpha", "m_key", "b"]),
    st.text(alphabet=string.ascii_letters + " &=/%+", max_size=6),
    max_size=3,
)


def _path(constituent_id: int) -> str:
    return f"/api/v1/constituents/{constituent_id}/phone_numbers"


def _create_numbers(api: Api, count: int, first_batch: int) -> tuple[int, list[int]]:
    """A fresh constituent with count numbers, their ids interleaved with another's.

    Number texts run backwards, so an order by number instead of id would show.
    """
    texts = [f"555-{count - i:04d}" for i in range(count)]
    first = min(first_batch, count)
    response = api.post(
        "/api/v1/constituents",
        {"last_name": "Paged", "phone_numbers": [{"number": t} for t in texts[:first]]},
    )
    assert response.status_code == 200, response.text
    created = response.json()
    ids = [number["id"] for number in created["phone_numbers"]]
    noise = api.constituent()
    api.number(noise, number="999-0000")
    ids += [api.number(created["id"], number=t)["id"] for t in texts[first:]]
    assert len(set(ids)) == count
    return int(created["id"]), ids


def _fetch(api: Api, path: str, params: dict[str, str], *, query_token: bool) -> dict[str, Any]:
    if query_token:
        response = api.client.get(path, params={**params, "access_token": api.key})
    else:
        response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _check_next_link(api: Api, link: str, path: str, expected_query: dict[str, str]) -> None:
    parts = urlsplit(link)
    assert parts.scheme in ("http", "https")
    assert parts.netloc
    assert parts.path == path
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    keys = [key for key, _ in pairs]
    assert keys == sorted(keys)
    assert dict(pairs) == expected_query
    assert len(pairs) == len(expected_query)
    assert "access_token" not in keys
    assert api.key not in link


def _check_page(
    api: Api,
    body: dict[str, Any],
    *,
    path: str,
    constituent_id: int,
    count: int,
    limit: int,
    offset: int,
    extras: dict[str, str],
) -> None:
    has_next = offset + limit < count
    middle = ["next_item", "next_link"] if has_next else []
    assert list(body) == ENVELOPE_HEAD + middle + ENVELOPE_TAIL
    assert body["api_version"] == "1.0"
    assert body["items_count"] == len(body["items"]) == max(0, min(limit, count - offset))
    assert body["total_items"] == count
    assert body["limit"] == limit
    assert body["offset"] == offset
    assert body["item_type"] == "phone_number"
    assert all(item["item_id"] == constituent_id for item in body["items"])
    if has_next:
        assert body["next_item"] == offset + limit
        expected = {**extras, "limit": str(limit), "offset": str(offset + limit)}
        _check_next_link(api, body["next_link"], path, expected)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    count=st.integers(min_value=0, max_value=30),
    first_batch=st.integers(min_value=0, max_value=30),
    limit=st.integers(min_value=1, max_value=40),
    query_token=st.booleans(),
    extras=extra_params,
)
def test_walking_next_item_yields_every_number_once_in_id_order(
    api: Api,
    count: int,
    first_batch: int,
    limit: int,
    query_token: bool,
    extras: dict[str, str],
) -> None:
    # The database outlives examples: each one pages its own new constituent.
    constituent_id, created_ids = _create_numbers(api, count, first_batch)
    path = _path(constituent_id)
    seen: list[int] = []
    offset = 0
    params = {**extras, "limit": str(limit)}  # the first request relies on offset's default
    for _ in range(count + 2):
        body = _fetch(api, path, params, query_token=query_token)
        _check_page(
            api,
            body,
            path=path,
            constituent_id=constituent_id,
            count=count,
            limit=limit,
            offset=offset,
            extras=extras,
        )
        seen += [item["id"] for item in body["items"]]
        if "next_item" not in body:
            break
        offset = body["next_item"]
        params = {**extras, "limit": str(limit), "offset": str(offset)}
    else:
        pytest.fail("next_item never ran out")
    assert seen == sorted(created_ids)
    assert len(set(seen)) == len(seen)


def test_following_next_link_gives_the_next_page(api: Api) -> None:
    constituent_id, ids = _create_numbers(api, 5, 5)
    first = api.get(_path(constituent_id), params={"limit": "2"}).json()
    second = api.get(first["next_link"]).json()
    by_offset = api.get(_path(constituent_id), params={"limit": "2", "offset": "2"}).json()
    assert second == by_offset
    assert [item["id"] for item in second["items"]] == sorted(ids)[2:4]


def test_next_link_omits_the_access_token_used_to_authenticate(api: Api) -> None:
    constituent_id, _ = _create_numbers(api, 3, 3)
    response = api.client.get(_path(constituent_id), params={"access_token": api.key, "limit": "1"})
    assert response.status_code == 200
    link = response.json()["next_link"]
    assert "access_token" not in link
    assert api.key not in link
    assert api.get(link).json()["offset"] == 1


def test_a_limit_over_the_maximum_is_clamped_and_shown(api: Api) -> None:
    constituent_id, _ = _create_numbers(api, 3, 3)
    body = api.get(_path(constituent_id), params={"limit": "1000"}).json()
    assert body["limit"] == MAX_LIMIT
    assert body["items_count"] == 3
    assert "next_link" not in body


def test_an_offset_past_the_end_is_an_empty_last_page(api: Api) -> None:
    constituent_id, _ = _create_numbers(api, 3, 3)
    body = api.get(_path(constituent_id), params={"offset": "10"}).json()
    assert body["items"] == []
    assert body["items_count"] == 0
    assert body["total_items"] == 3
    assert "next_item" not in body


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "-1"},
        {"offset": "-1"},
        {"limit": "abc"},
        {"offset": "1.5"},
        {"limit": ""},
        {"offset": "9" * 30},
    ],
)
def test_bad_paging_parameters_answer_400(api: Api, params: dict[str, str]) -> None:
    constituent_id = api.constituent()
    response = api.get(_path(constituent_id), params=params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["api_version", "error", "description", "errors"]
    assert set(body["errors"]) == set(params)


@pytest.mark.parametrize("name", ["limit", "offset"])
def test_a_huge_paging_parameter_answers_400(api: Api, name: str) -> None:
    constituent_id = api.constituent()
    response = api.get(_path(constituent_id), params={name: "1" * 5000})
    assert response.status_code == 400


def test_a_huge_constituent_id_answers_404(api: Api) -> None:
    response = api.get(f"/api/v1/constituents/{'1' * 5000}/phone_numbers")
    assert response.status_code == 404
