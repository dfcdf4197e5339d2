"""The fixtures hold together: create and fetch through the real app."""

from __future__ import annotations

from tests.conftest import Api


def test_create_then_show(api: Api) -> None:
    constituent_id = api.constituent()
    created = api.number(constituent_id)
    shown = api.get(f"/api/v1/phone_numbers/{created['id']}")
    assert shown.status_code == 200
    assert shown.json() == created
