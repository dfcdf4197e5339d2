"""The demo data `make run` prints a key for: one account, one constituent, two numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from phonebook.rules.constituent_input import ConstituentInput
from phonebook.rules.paging import Page
from phonebook.rules.phone_number_input import PhoneNumberInput
from phonebook.rules.search_terms import SearchTerms
from phonebook.service import accounts, constituents
from phonebook.service.context import Caller, ServiceContext
from phonebook.store.database import Database

DEMO_ACCOUNT: Final = "Demo"
DEMO_LABEL: Final = "demo"
DEMO_EXTERNAL_ID: Final = "demo-1"


@dataclass(frozen=True, slots=True)
class Demo:
    account_id: int
    constituent_id: int
    key: str


def prepare(database: Database) -> Demo:
    """Idempotent, but for the key: earlier demo keys are revoked, a fresh one is made."""
    account_id = accounts.ensure_account(database, DEMO_ACCOUNT)
    key = accounts.replace_labelled_key(database, account_id, DEMO_LABEL)
    ctx = ServiceContext.open(database)
    caller = Caller.operator(account_id)
    terms = SearchTerms(external_ids=[DEMO_EXTERNAL_ID])
    found, _ = constituents.page(ctx, caller, terms, Page(1, 0), expand=False)
    if found:
        return Demo(account_id, found[0].row.id, key)
    created = constituents.create(ctx, caller, _demo_constituent())
    return Demo(account_id, created.row.id, key)


def _demo_constituent() -> ConstituentInput:
    return ConstituentInput(
        values={
            "external_constituent_id": DEMO_EXTERNAL_ID,
            "first_name": "Ada",
            "last_name": "Lovelace",
        },
        phone_numbers=(
            PhoneNumberInput(number="(888) 555-0044", type_name="Mobile", is_preferred=True),
            PhoneNumberInput(number="222-555-1212"),
        ),
    )
