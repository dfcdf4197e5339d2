"""The API against a model: two accounts, their constituents and phone numbers.

A hypothesis RuleBasedStateMachine drives the real app (TestClient, on SQLite
and PostgreSQL) through random sequences of creates, updates, deletes, reads
and cross-account attempts, and keeps a small in-memory model of what must be
stored. After every step the constituents the step touched are listed through
the API and compared with the model (which also checks that at most one number
per constituent is preferred); at the end of every example, everything the
example created is read back, by its owner and by the other account.

The database outlives the examples of one test run, so each example works only
on the constituents it created and compares only those.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import Api

TYPES: Final = {
    1: "Home",
    2: "Work",
    3: "Mobile",
    4: "Other",
    5: "Fax",
    6: "Skype",
    7: "Assistant",
    8: "Pager",
}
HOME: Final = 1
SKYPE: Final = 6
# An id no object will ever have in these tests: the reference for "does not exist".
MISSING: Final = 2**62 + 4242
NUMBER_KEYS: Final = [
    "id",
    "item_id",
    "item_type",
    "number",
    "phone_number_type_id",
    "phone_type_name",
    "is_preferred",
    "not_current",
    "parent_id",
    "normalized_number",
    "created_at",
    "updated_at",
]
WRITABLE: Final = {
    "number",
    "phone_number_type_id",
    "phone_type_name",
    "is_preferred",
    "not_current",
}
READ_ONLY: Final = {
    "id",
    "item_id",
    "item_type",
    "normalized_number",
    "parent_id",
    "created_at",
    "updated_at",
    "api_version",
}
TIMESTAMP: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
DELETED_BODY: Final = {"api_version": "1.0", "result": "success"}
# Unique external ids let a search pick out one constituent in a shared database.
RUN: Final = uuid.uuid4().hex[:12]
_serial = itertools.count()

Body = dict[str, object]

# ---------------------------------------------------------------- strategies

DIGITS: Final = "0123456789\uff10\uff15\u0663"  # ASCII, fullwidth and Arabic-Indic digits
PUNCTUATION: Final = " ()+-.x"
HANDLE: Final = "abcxyzXYZ._"


def _concat(head: str, digit: str, tail: str) -> str:
    return head + digit + tail


def _merge(*parts: Body) -> Body:
    merged: Body = {}
    for part in parts:
        merged.update(part)
    return merged


def _mostly(
    usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], one_in: int = 5
) -> st.SearchStrategy[Any]:
    """usual, except about once in one_in draws, rare (st.one_of would weigh them alike)."""
    return st.integers(0, one_in - 1).flatmap(lambda k: rare if k == one_in - 1 else usual)


def _spelled(name: str, style: str) -> str:
    return {"lower": name.lower(), "upper": name.upper()}.get(style, name)


def _both(type_id: int) -> st.SearchStrategy[Body]:
    name = TYPES[type_id]
    return st.fixed_dictionaries(
        {
            "phone_number_type_id": st.sampled_from([type_id, str(type_id)]),
            "phone_type_name": st.sampled_from([name, name.lower()]),
        }
    )


# Valid parts: a body made of them alone is accepted (a handle only with Skype).
numbers_with_digit = st.builds(
    _concat,
    st.text(DIGITS + PUNCTUATION, max_size=14),
    st.sampled_from(DIGITS),
    st.text(DIGITS + PUNCTUATION, max_size=14),
)
handles = st.builds(
    _concat, st.text(HANDLE + " ", max_size=6), st.sampled_from(HANDLE), st.just("")
)
type_ids = st.integers(1, 8)
type_names = st.builds(
    _spelled, st.sampled_from(list(TYPES.values())), st.sampled_from(["lower", "upper", "as is"])
)
valid_type_parts: st.SearchStrategy[Body] = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"phone_number_type_id": st.one_of(type_ids, type_ids.map(str))}),
    st.fixed_dictionaries({"phone_type_name": type_names}),
    type_ids.flatmap(_both),
    # null means "not given" for either type field
    st.fixed_dictionaries({"phone_number_type_id": st.none(), "phone_type_name": type_names}),
)
valid_flags = st.sampled_from([True, False, "true", "false", "1", "0", "TRUE", "False", 1, 0])
valid_flag_parts: st.SearchStrategy[Body] = st.fixed_dictionaries(
    {}, optional={"is_preferred": valid_flags, "not_current": valid_flags}
)
# Read-only keys a client may send back are ignored.
read_only_parts: st.SearchStrategy[Body] = _mostly(
    st.just({}),
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.just(1),
            "item_id": st.just(1),
            "item_type": st.just("Other"),
            "normalized_number": st.just("99"),
            "parent_id": st.just(7),
            "created_at": st.just("2001-01-01T00:00:00Z"),
            "updated_at": st.just("nonsense"),
            "api_version": st.just("9.9"),
        },
    ),
)
skype_parts: st.SearchStrategy[Body] = st.fixed_dictionaries(
    {"number": handles, "phone_number_type_id": st.sampled_from([SKYPE, str(SKYPE)])}
)
valid_create_bodies: st.SearchStrategy[Body] = st.builds(
    _merge,
    _mostly(
        st.builds(_merge, st.fixed_dictionaries({"number": numbers_with_digit}), valid_type_parts),
        skype_parts,
    ),
    valid_flag_parts,
    read_only_parts,
)
valid_patch_bodies: st.SearchStrategy[Body] = st.builds(
    _merge,
    st.fixed_dictionaries({}, optional={"number": numbers_with_digit}),
    valid_type_parts,
    valid_flag_parts,
    read_only_parts,
)

# Anything goes: each part may be invalid, so a body may be rejected (422) for any of
# several reasons, or for none (a handle on a Skype number; a type matching the name).
any_numbers = st.one_of(
    numbers_with_digit,
    handles,
    st.sampled_from(["", "   ", "5" * 65, "1\x00", 5550100]),
)
any_type_ids = st.one_of(type_ids, st.sampled_from([0, 9, "9", "-1", "x", 2.5, True]))
any_type_names = st.one_of(type_names, st.sampled_from(["Cell", "Home phone"]))
any_flags = st.one_of(valid_flags, st.sampled_from(["yes", 2, None, "on"]))
any_parts: st.SearchStrategy[Body] = st.fixed_dictionaries(
    {},
    optional={
        "number": any_numbers,
        "phone_number_type_id": any_type_ids,
        "phone_type_name": any_type_names,
        "is_preferred": any_flags,
        "not_current": any_flags,
        "colour": st.just("red"),
    },
)
create_bodies = _mostly(valid_create_bodies, any_parts, one_in=6)
patch_bodies = _mostly(valid_patch_bodies, st.builds(_merge, valid_patch_bodies, any_parts), 6)
accounts = st.sampled_from([0, 1])

# ---------------------------------------------------------------- the model


def digits_of(text: str) -> str | None:
    """normalized_number: every decimal digit, as ASCII, in order; None without one."""
    found = "".join(
        str(unicodedata.decimal(ch)) for ch in text if unicodedata.decimal(ch, None) is not None
    )
    return found or None


class RejectedError(Exception):
    """The model expects 422."""


def _lax_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    raise RejectedError


def _lax_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,19}", value):
        return int(value)
    raise RejectedError


@dataclass(frozen=True)
class Parsed:
    """A phone number body as the contract reads it; None: not given."""

    number: str | None
    type_id: int | None
    type_name: str | None
    is_preferred: bool | None
    not_current: bool | None

    def chosen_type(self) -> int | None:
        """The type the body names; unknown or contradictory: 422."""
        by_id = by_name = None
        if self.type_id is not None:
            if self.type_id not in TYPES:
                raise RejectedError
            by_id = self.type_id
        if self.type_name is not None:
            matches = [i for i, name in TYPES.items() if name.lower() == self.type_name.lower()]
            if not matches:
                raise RejectedError
            by_name = matches[0]
        if by_id is not None and by_name is not None and by_id != by_name:
            raise RejectedError
        return by_id or by_name


def parse(body: Body) -> Parsed:
    """Keys, value types and lax forms (CONTRACT §4): checked before the object is looked up."""
    if set(body) - WRITABLE - READ_ONLY:
        raise RejectedError
    number = None
    if "number" in body:
        raw = body["number"]
        if not isinstance(raw, str):
            raise RejectedError
        number = raw.strip()
        bad = any(unicodedata.category(ch) in ("Cc", "Cs") for ch in number)
        if not 1 <= len(number) <= 64 or bad:
            raise RejectedError
    type_id = (
        None if body.get("phone_number_type_id") is None else _lax_int(body["phone_number_type_id"])
    )
    type_name = None
    if body.get("phone_type_name") is not None:
        raw_name = body["phone_type_name"]
        if not isinstance(raw_name, str):
            raise RejectedError
        type_name = raw_name.strip() or None
    preferred = _lax_bool(body["is_preferred"]) if "is_preferred" in body else None
    not_current = _lax_bool(body["not_current"]) if "not_current" in body else None
    return Parsed(number, type_id, type_name, preferred, not_current)


def check_number_for_type(number: str, type_id: int) -> None:
    if type_id != SKYPE and digits_of(number) is None:
        raise RejectedError


def invalid_on_its_own(parsed: Parsed) -> bool:
    """The body names an unknown or contradictory type, or a handle for a non-Skype type.

    Sent to an id that names nothing, such a body may be judged before the lookup (422)
    or after it (404): the contract does not say which.
    """
    try:
        chosen = parsed.chosen_type()
        if parsed.number is not None and chosen is not None:
            check_number_for_type(parsed.number, chosen)
    except RejectedError:
        return True
    return False


@dataclass
class NumberModel:
    id: int
    account: int
    constituent_id: int
    number: str
    type_id: int
    is_preferred: bool
    not_current: bool
    deleted: bool = False
    created_at: str | None = None
    updated_at: str | None = None  # as last seen through the API
    may_move: bool = False  # changed since last seen: updated_at may have moved

    def expected(self) -> Body:
        """The object as listed, without its timestamps."""
        return {
            "id": self.id,
            "item_id": self.constituent_id,
            "item_type": "Constituent",
            "number": self.number,
            "phone_number_type_id": self.type_id,
            "phone_type_name": TYPES[self.type_id],
            "is_preferred": self.is_preferred,
            "not_current": self.not_current,
            "parent_id": None,
            "normalized_number": digits_of(self.number),
        }


@dataclass
class ConstituentModel:
    id: int
    account: int
    external_id: str
    last_name: str
    deleted: bool = False


def _json(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body


def _error_part(response: Any) -> tuple[int, Any, Any]:
    """What must not tell a missing id from another account's: status, error, errors."""
    body = _json(response)
    return response.status_code, body.get("error"), body.get("errors")


# ---------------------------------------------------------------- the machine


class PhonebookMachine(RuleBasedStateMachine):
    """Subclassed per test with the two accounts' clients (function-scoped fixtures)."""

    apis: ClassVar[tuple[Api, Api]]

    constituents = Bundle[int]("constituents")
    numbers = Bundle[int]("numbers")

    def __init__(self) -> None:
        super().__init__()
        self.people: dict[int, ConstituentModel] = {}
        self.phones: dict[int, NumberModel] = {}
        self.touched: set[int] = set()

    # ----------------------------------------------------------- model helpers

    def numbers_of(self, constituent_id: int) -> list[NumberModel]:
        return sorted(
            (
                n
                for n in self.phones.values()
                if n.constituent_id == constituent_id and not n.deleted
            ),
            key=lambda n: n.id,
        )

    def touch(self, constituent_id: int) -> None:
        """The step may change this constituent's numbers: list them after it (if it exists)."""
        if not self.people[constituent_id].deleted:
            self.touched.add(constituent_id)

    def owner(self, constituent_id: int) -> Api:
        return self.apis[self.people[constituent_id].account]

    def stranger(self, constituent_id: int) -> Api:
        return self.apis[1 - self.people[constituent_id].account]

    def make_preferred(self, number: NumberModel) -> None:
        """number becomes the constituent's only preferred number."""
        for other in self.numbers_of(number.constituent_id):
            if other.id != number.id and other.is_preferred:
                other.is_preferred = False
                other.may_move = True
        number.is_preferred = True

    def add_number(self, constituent_id: int, created: dict[str, Any], parsed: Parsed) -> int:
        """Record a number the API says it created (preferred: the others lose the flag)."""
        person = self.people[constituent_id]
        model = NumberModel(
            id=int(created["id"]),
            account=person.account,
            constituent_id=constituent_id,
            number=parsed.number or "",
            type_id=parsed.chosen_type() or HOME,
            is_preferred=False,
            not_current=bool(parsed.not_current),
            may_move=True,
        )
        assert model.id not in self.phones, f"id {model.id} reused"
        self.phones[model.id] = model
        if parsed.is_preferred:
            self.make_preferred(model)
        return model.id

    def check_number(self, body: dict[str, Any], model: NumberModel, shape: str) -> None:
        """body shows model: keys in order, values, timestamps that move only on change."""
        keys = list(NUMBER_KEYS)
        expected = model.expected()
        if shape == "one":
            keys.insert(0, "api_version")
            expected = {"api_version": "1.0", **expected}
        elif shape == "embedded":
            keys = [k for k in keys if k not in ("item_id", "item_type")]
            del expected["item_id"], expected["item_type"]
        assert list(body) == keys, body
        shown = {k: v for k, v in body.items() if k not in ("created_at", "updated_at")}
        assert shown == expected, f"API {shown} != model {expected}"
        created, updated = body["created_at"], body["updated_at"]
        assert TIMESTAMP.fullmatch(created), created
        assert TIMESTAMP.fullmatch(updated), updated
        assert updated >= created
        if model.created_at is not None:
            assert created == model.created_at, "created_at moved"
        if model.updated_at is not None:
            if model.may_move:
                assert updated >= model.updated_at, "updated_at went back"
            else:
                assert updated == model.updated_at, f"updated_at moved without a change: {body}"
        model.created_at, model.updated_at, model.may_move = created, updated, False

    def check_listed(self, constituent_id: int, limit: int = 100) -> None:
        """The constituent's numbers, page by page, against the model; one preferred at most."""
        person = self.people[constituent_id]
        api = self.owner(constituent_id)
        path = f"/api/v1/constituents/{constituent_id}/phone_numbers"
        if person.deleted:
            assert api.get(path).status_code == 404
            return
        expected = self.numbers_of(constituent_id)
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            response = api.get(path, params={"limit": limit, "offset": offset})
            assert response.status_code == 200, response.text
            page = _json(response)
            assert page["total_items"] == len(expected), page
            assert page["items_count"] == len(page["items"]) <= limit
            items += page["items"]
            if "next_item" not in page:
                break
            assert page["next_item"] == offset + limit
            offset = page["next_item"]
        assert [item["id"] for item in items] == [n.id for n in expected]
        preferred = [item["id"] for item in items if item["is_preferred"]]
        assert len(preferred) <= 1, f"constituent {constituent_id}: preferred {preferred}"
        for item, model in zip(items, expected, strict=True):
            self.check_number(item, model, "item")

    def check_shown(self, constituent_id: int) -> None:
        """GET /constituents/{id}: the constituent with its numbers embedded."""
        person = self.people[constituent_id]
        response = self.owner(constituent_id).get(f"/api/v1/constituents/{constituent_id}")
        if person.deleted:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        body = _json(response)
        assert body["id"] == constituent_id
        assert body["external_constituent_id"] == person.external_id
        assert body["last_name"] == person.last_name
        assert body["first_name"] is None
        embedded = body["phone_numbers"]
        expected = self.numbers_of(constituent_id)
        assert [n["id"] for n in embedded] == [n.id for n in expected]
        for item, model in zip(embedded, expected, strict=True):
            self.check_number(item, model, "embedded")

    def check_one(self, number_id: int) -> None:
        model = self.phones[number_id]
        response = self.apis[model.account].get(f"/api/v1/phone_numbers/{number_id}")
        if model.deleted:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        self.check_number(_json(response), model, "one")

    def constituent_count(self, account: int) -> int:
        response = self.apis[account].get("/api/v1/constituents", params={"limit": 1})
        assert response.status_code == 200, response.text
        return int(_json(response)["total_items"])

    # ----------------------------------------------------------------- rules

    @rule(
        target=constituents,
        account=accounts,
        name=st.sampled_from(["Doe", "Lovelace", "Zoë"]),
        embedded=_mostly(st.lists(create_bodies, min_size=1, max_size=3), st.just([]), 2),
    )
    def create_constituent(
        self, account: int, name: str, embedded: list[Body]
    ) -> int | MultipleResults[int]:
        """POST /constituents, sometimes with numbers: all of them stored, or nothing."""
        external_id = f"sm-{RUN}-{next(_serial)}"
        body: Body = {"last_name": name, "external_constituent_id": external_id}
        if embedded:
            body["phone_numbers"] = embedded
        try:
            parsed = [parse(number) for number in embedded]
            for item in parsed:
                if item.number is None:
                    raise RejectedError
                check_number_for_type(item.number, item.chosen_type() or HOME)
        except RejectedError:
            before = self.constituent_count(account)
            response = self.apis[account].post("/api/v1/constituents", body)
            assert response.status_code == 422, response.text
            errors = _json(response)["errors"]
            assert all(key.startswith("phone_numbers[") for key in errors), errors
            assert self.constituent_count(account) == before, "a rejected create stored something"
            return multiple()
        response = self.apis[account].post("/api/v1/constituents", body)
        assert response.status_code == 200, response.text
        created = _json(response)
        constituent_id = int(created["id"])
        assert constituent_id not in self.people, f"constituent id {constituent_id} reused"
        self.people[constituent_id] = ConstituentModel(constituent_id, account, external_id, name)
        # In order: when several are preferred, the last one wins.
        for shown, item in zip(created["phone_numbers"], parsed, strict=True):
            self.add_number(constituent_id, shown, item)
        expected = self.numbers_of(constituent_id)
        assert [n["id"] for n in created["phone_numbers"]] == [n.id for n in expected]
        for shown, model in zip(created["phone_numbers"], expected, strict=True):
            self.check_number(shown, model, "embedded")
        self.touch(constituent_id)
        return constituent_id

    @rule(target=numbers, constituent=constituents, body=create_bodies)
    def create_number(self, constituent: int, body: Body) -> int | MultipleResults[int]:
        person = self.people[constituent]
        response = self.owner(constituent).post(
            f"/api/v1/constituents/{constituent}/phone_numbers", body
        )
        self.touch(constituent)
        try:
            parsed = parse(body)
            if parsed.number is None:
                raise RejectedError
            check_number_for_type(parsed.number, parsed.chosen_type() or HOME)
        except RejectedError:
            # A bad body answers 422 even for a constituent that is gone.
            assert response.status_code == 422, f"{body} -> {response.text}"
            return multiple()
        if person.deleted:
            assert response.status_code == 404, response.text
            return multiple()
        assert response.status_code == 200, f"{body} -> {response.text}"
        created = _json(response)
        number_id = self.add_number(constituent, created, parsed)
        self.check_number(created, self.phones[number_id], "one")
        return number_id

    @rule(target=numbers, constituent=constituents, index=st.integers(0, 3))
    def remember_embedded(self, constituent: int, index: int) -> int | MultipleResults[int]:
        """Numbers created inside a constituent create join the bundle too (no request)."""
        ids = sorted(n.id for n in self.phones.values() if n.constituent_id == constituent)
        return ids[index] if index < len(ids) else multiple()

    @rule(number=numbers, body=patch_bodies)
    def patch_number(self, number: int, body: Body) -> None:
        model = self.phones[number]
        self.touch(model.constituent_id)
        response = self.apis[model.account].patch(f"/api/v1/phone_numbers/{number}", body)
        try:
            parsed = parse(body)
        except RejectedError:
            assert response.status_code == 422, f"{body} -> {response.text}"
            return
        if model.deleted:
            allowed = (404, 422) if invalid_on_its_own(parsed) else (404,)
            assert response.status_code in allowed, f"{body} -> {response.text}"
            return
        try:
            type_id = parsed.chosen_type() or model.type_id
            new_number = model.number if parsed.number is None else parsed.number
            check_number_for_type(new_number, type_id)
        except RejectedError:
            assert response.status_code == 422, f"{body} on {model} -> {response.text}"
            return
        assert response.status_code == 200, f"{body} on {model} -> {response.text}"
        changed = (new_number, type_id) != (model.number, model.type_id)
        model.number, model.type_id = new_number, type_id
        if parsed.not_current is not None and parsed.not_current != model.not_current:
            model.not_current, changed = parsed.not_current, True
        if parsed.is_preferred is not None and parsed.is_preferred != model.is_preferred:
            changed = True
            if parsed.is_preferred:
                self.make_preferred(model)
            else:
                model.is_preferred = False
        model.may_move = model.may_move or changed
        self.check_number(_json(response), model, "one")

    @rule(number=numbers, value=valid_flags)
    def set_preferred(self, number: int, value: object) -> None:
        """The flag the one-preferred rule is about, more often than random bodies set it."""
        self.patch_number(number, {"is_preferred": value})

    @rule(number=numbers)
    def get_and_send_back(self, number: int) -> None:
        """GET a number; sent back unchanged: 200, the same object, updated_at unmoved."""
        model = self.phones[number]
        api = self.apis[model.account]
        fetched = api.get(f"/api/v1/phone_numbers/{number}")
        if model.deleted:
            assert fetched.status_code == 404, fetched.text
            return
        assert fetched.status_code == 200, fetched.text
        self.check_number(_json(fetched), model, "one")
        response = api.patch(f"/api/v1/phone_numbers/{number}", _json(fetched))
        assert response.status_code == 200, response.text
        assert _json(response) == _json(fetched)

    @rule(number=consumes(numbers))
    def delete_number(self, number: int) -> None:
        model = self.phones[number]
        self.touch(model.constituent_id)
        response = self.apis[model.account].delete(f"/api/v1/phone_numbers/{number}")
        if model.deleted:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        assert _json(response) == DELETED_BODY
        model.deleted = True

    @precondition(lambda self: sum(not p.deleted for p in self.people.values()) >= 2)
    @rule(constituent=consumes(constituents))
    def delete_constituent(self, constituent: int) -> None:
        """Its numbers go with it."""
        person = self.people[constituent]
        self.touch(constituent)
        response = self.owner(constituent).delete(f"/api/v1/constituents/{constituent}")
        if person.deleted:
            assert response.status_code == 404, response.text
            return
        assert response.status_code == 200, response.text
        assert _json(response) == DELETED_BODY
        person.deleted = True
        for model in self.phones.values():
            if model.constituent_id == constituent:
                model.deleted = True

    @rule(constituent=constituents, limit=st.sampled_from([1, 2, 3, 25]))
    def read_constituent(self, constituent: int, limit: int) -> None:
        """Show it (numbers embedded) and list its numbers page by page."""
        self.check_shown(constituent)
        self.check_listed(constituent, limit)

    @rule(number=numbers, data=st.data())
    def search_by_number(self, number: int, data: st.DataObject) -> None:
        """Reverse lookup: the owner finds the constituent, the other account never does."""
        model = self.phones[number]
        person = self.people[model.constituent_id]
        digits = digits_of(model.number) or "0"
        start = data.draw(st.integers(0, len(digits) - 1))
        term = digits[start : data.draw(st.integers(start + 1, len(digits)))]
        query = [("q[]", f"phone_number=({term})"), ("q[]", f"external_id={person.external_id}")]
        found = not person.deleted and any(
            term in (digits_of(n.number) or "") for n in self.numbers_of(person.id)
        )
        for account, api in enumerate(self.apis):
            response = api.get("/api/v1/constituents/search", params=query)
            assert response.status_code == 200, response.text
            ids = [item["id"] for item in _json(response)["items"]]
            mine = account == person.account
            assert ids == ([person.id] if found and mine else []), f"{query} as {account}: {ids}"

    @rule(number=numbers, action=st.sampled_from(["get", "patch", "delete"]), body=patch_bodies)
    def foreign_number(self, number: int, action: str, body: Body) -> None:
        """The other account: 404 exactly as for a missing id, and nothing changes."""
        model = self.phones[number]
        self.touch(model.constituent_id)
        stranger = self.apis[1 - model.account]

        def attempt(number_id: int) -> Any:
            path = f"/api/v1/phone_numbers/{number_id}"
            if action == "get":
                return stranger.get(path)
            if action == "patch":
                return stranger.patch(path, body)
            return stranger.delete(path)

        answer, reference = attempt(number), attempt(MISSING)
        assert _error_part(answer) == _error_part(reference), (answer.text, reference.text)
        if action == "patch":
            try:
                allowed = (404, 422) if invalid_on_its_own(parse(body)) else (404,)
            except RejectedError:
                allowed = (422,)
        else:
            allowed = (404,)
        assert answer.status_code in allowed, f"{action} {body} -> {answer.text}"

    @rule(
        constituent=constituents,
        action=st.sampled_from(["show", "list", "add", "patch", "delete"]),
        body=create_bodies,
    )
    def foreign_constituent(self, constituent: int, action: str, body: Body) -> None:
        """The other account: 404 exactly as for a missing id, and nothing changes."""
        self.touch(constituent)
        stranger = self.stranger(constituent)

        def attempt(constituent_id: int) -> Any:
            path = f"/api/v1/constituents/{constituent_id}"
            actions: dict[str, Callable[[], Any]] = {
                "show": lambda: stranger.get(path),
                "list": lambda: stranger.get(f"{path}/phone_numbers"),
                "add": lambda: stranger.post(f"{path}/phone_numbers", body),
                "patch": lambda: stranger.patch(path, {"first_name": "Mallory"}),
                "delete": lambda: stranger.delete(path),
            }
            return actions[action]()

        answer, reference = attempt(constituent), attempt(MISSING)
        assert _error_part(answer) == _error_part(reference), (answer.text, reference.text)
        assert answer.status_code in ((404, 422) if action == "add" else (404,)), answer.text
        if action == "patch":
            self.check_shown(constituent)  # first_name still unset

    # ------------------------------------------------------------ invariants

    @invariant()
    def touched_constituents_agree(self) -> None:
        """After every step: the constituents it touched, listed, match the model."""
        for constituent_id in sorted(self.touched):
            self.check_listed(constituent_id)
        self.touched.clear()

    @invariant()
    def model_has_one_preferred_at_most(self) -> None:
        for constituent_id in self.people:
            preferred = [n.id for n in self.numbers_of(constituent_id) if n.is_preferred]
            assert len(preferred) <= 1, f"model broken: {preferred}"

    def teardown(self) -> None:
        """Everything this example created, read back by its owner and by the other account.

        A deleted object's id answers 404 to its owner: to GET for all of them, and
        to every other method for one constituent and one number per example.
        """
        probed_constituent = probed_number = False
        for constituent_id in sorted(self.people):
            self.check_shown(constituent_id)
            path = f"/api/v1/constituents/{constituent_id}"
            if not self.people[constituent_id].deleted:
                self.check_listed(constituent_id)
                assert self.stranger(constituent_id).get(path).status_code == 404
            elif not probed_constituent:
                probed_constituent = True
                owner = self.owner(constituent_id)
                assert owner.get(f"{path}/phone_numbers").status_code == 404
                assert owner.patch(path, {"first_name": "Again"}).status_code == 404
                assert owner.delete(path).status_code == 404
                added = owner.post(f"{path}/phone_numbers", {"number": "555-0100"})
                assert added.status_code == 404, added.text
        for number_id in sorted(self.phones):
            self.check_one(number_id)
            model = self.phones[number_id]
            path = f"/api/v1/phone_numbers/{number_id}"
            if not model.deleted:
                assert self.apis[1 - model.account].get(path).status_code == 404
            elif not probed_number:
                probed_number = True
                owner = self.apis[model.account]
                assert owner.patch(path, {"not_current": True}).status_code == 404
                assert owner.delete(path).status_code == 404


def test_api_agrees_with_a_model(api: Api, other_api: Api) -> None:
    """Random sequences of calls by two accounts keep the API and the model in step."""

    class Machine(PhonebookMachine):
        apis = (api, other_api)

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
