"""The seeding command's data set: shaped like a CRM's, and usable afterwards."""

from __future__ import annotations

from sqlalchemy import case, func, select

from phonebook.service.seed import seed
from phonebook.store.database import Database
from phonebook.store.tables import constituents, phone_numbers
from tests.conftest import Api


def test_seed_spreads_numbers_with_one_preferred_each(database: Database) -> None:
    result = seed(database, "Seeded", constituents=50, numbers=160)
    assert (result.constituents, result.numbers) == (50, 160)
    with database.reading() as conn:
        per_constituent = conn.execute(
            select(func.count(), func.sum(case((phone_numbers.c.is_preferred, 1), else_=0)))
            .where(phone_numbers.c.account_id == result.account_id)
            .group_by(phone_numbers.c.constituent_id)
        ).all()
        owned = conn.execute(
            select(func.count()).where(constituents.c.account_id == result.account_id)
        ).scalar_one()
    assert owned == 50
    assert sorted({count for count, _ in per_constituent}) == [3, 4]
    assert all(preferred == 1 for _, preferred in per_constituent)


def test_the_api_serves_and_extends_seeded_data(api: Api, database: Database) -> None:
    """Ids given explicitly by the bulk load must not collide with later inserts."""
    result = seed(database, "Seeded", constituents=10, numbers=30)
    seeded_owner = result.first_constituent_id
    mine = api.constituent()
    created = api.number(mine)
    assert mine > seeded_owner + 9
    assert created["id"] > result.first_number_id + 29


def test_seed_never_reuses_the_id_of_a_deleted_row(api: Api, database: Database) -> None:
    """Ids stay their rows' (CONTRACT §2): a deleted number keeps its history and can come back."""
    doomed = api.constituent()
    nid = api.number(doomed)["id"]
    assert api.delete(f"/api/v1/phone_numbers/{nid}").status_code == 200
    assert api.delete(f"/api/v1/constituents/{doomed}").status_code == 200
    seeded = seed(database, "After", constituents=2, numbers=2)
    assert seeded.first_number_id > nid
    assert seeded.first_constituent_id > doomed
    restored = api.post(f"/api/v1/constituents/{doomed}/restore")
    assert restored.status_code == 200, restored.text
    assert api.post(f"/api/v1/phone_numbers/{nid}/restore").status_code == 200
    # And the API's own next ids still come after the seeded ones.
    assert api.constituent() > seeded.first_constituent_id + 1
