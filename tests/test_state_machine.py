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
import uuid
from collections.abc import Callable
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
from tests.contract_keys import NUMBER_ITEM_KEYS
from tests.state_machine.bodies import accounts, create_bodies, mostly, patch_bodies, valid_flags
from tests.state_machine.model import (
    HOME,
    Body,
    ConstituentModel,
    NumberModel,
    Parsed,
    RejectedError,
    check_number_for_type,
    digits_of,
    error_part,
    invalid_on_its_own,
    json_of,
    parse,
)

# An id no object will ever have in these tests: the reference for "does not exist".
MISSING: Final = 2**62 + 4242
TIMESTAMP: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
DELETED_BODY: Final = {"api_version": "1.0", "result": "success"}
LIVE_ACTIONS: Final = ("create", "update", "restore")
# Unique external ids let a search pick out one constituent in a shared database.
RUN: Final = uuid.uuid4().hex[:12]
_serial = itertools.count()


class PhonebookMachine(RuleBasedStateMachine):
    """Subclassed per test with the two accounts' clients (function-scoped fixtures)."""

    apis: ClassVar[tuple[Api, Api]]

    constituents = Bundle[int]("constituents")
    numbers = Bundle[int]("numbers")
    deleted_numbers = Bundle[int]("deleted_numbers")

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
        keys = list(NUMBER_ITEM_KEYS)
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
            page = json_of(response)
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
        body = json_of(response)
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
        self.check_number(json_of(response), model, "one")

    def constituent_count(self, account: int) -> int:
        response = self.apis[account].get("/api/v1/constituents", params={"limit": 1})
        assert response.status_code == 200, response.text
        return int(json_of(response)["total_items"])

    # ----------------------------------------------------------------- rules

    @rule(
        target=constituents,
        account=accounts,
        name=st.sampled_from(["Doe", "Lovelace", "Zoë"]),
        embedded=mostly(st.lists(create_bodies, min_size=1, max_size=3), st.just([]), 2),
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
            errors = json_of(response)["errors"]
            assert all(key.startswith("phone_numbers[") for key in errors), errors
            assert self.constituent_count(account) == before, "a rejected create stored something"
            return multiple()
        response = self.apis[account].post("/api/v1/constituents", body)
        assert response.status_code == 200, response.text
        created = json_of(response)
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
        created = json_of(response)
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
        self.check_number(json_of(response), model, "one")

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
        self.check_number(json_of(fetched), model, "one")
        response = api.patch(f"/api/v1/phone_numbers/{number}", json_of(fetched))
        assert response.status_code == 200, response.text
        assert json_of(response) == json_of(fetched)

    @rule(target=deleted_numbers, number=consumes(numbers))
    def delete_number(self, number: int) -> int:
        model = self.phones[number]
        self.touch(model.constituent_id)
        response = self.apis[model.account].delete(f"/api/v1/phone_numbers/{number}")
        if model.deleted:
            assert response.status_code == 404, response.text
            return number
        assert response.status_code == 200, response.text
        assert json_of(response) == DELETED_BODY
        model.deleted = True
        return number

    @rule(target=numbers, number=consumes(deleted_numbers))
    def restore_number(self, number: int) -> int:
        """Back with its id and fields; preferred only if no other number is now."""
        model = self.phones[number]
        stranger = self.apis[1 - model.account].post(f"/api/v1/phone_numbers/{number}/restore")
        assert stranger.status_code == 404, stranger.text
        response = self.apis[model.account].post(f"/api/v1/phone_numbers/{number}/restore")
        if not model.deleted or self.people[model.constituent_id].deleted:
            assert response.status_code == 409, response.text
            return number
        assert response.status_code == 200, response.text
        others = self.numbers_of(model.constituent_id)
        model.deleted = False
        model.is_preferred = model.is_preferred and not any(n.is_preferred for n in others)
        model.may_move = True
        self.touch(model.constituent_id)
        self.check_number(json_of(response), model, "one")
        return number

    def check_history(self, number: int) -> None:
        """The latest event holds the number as the model has it; a stranger gets 404."""
        model = self.phones[number]
        path = f"/api/v1/phone_numbers/{number}/history"
        stranger = self.apis[1 - model.account].get(path)
        assert error_part(stranger) == error_part(
            self.apis[model.account].get(f"/api/v1/phone_numbers/{MISSING}/history")
        )
        owner = self.apis[model.account]
        total = json_of(owner.get(path, params={"limit": 1}))["total_items"]
        latest = json_of(owner.get(path, params={"limit": 1, "offset": total - 1}))["items"][0]
        assert latest["action"] in (("delete",) if model.deleted else LIVE_ACTIONS), latest
        state = latest["before"] if model.deleted else latest["after"]
        shown = {k: v for k, v in state.items() if k not in ("created_at", "updated_at")}
        assert shown == model.expected(), latest

    @rule(number=numbers)
    def read_history(self, number: int) -> None:
        self.check_history(number)

    @rule(number=deleted_numbers)
    def read_deleted_history(self, number: int) -> None:
        """A bundle of its own: one_of() over an empty bundle would filter examples out."""
        self.check_history(number)

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
        assert json_of(response) == DELETED_BODY
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
            ids = [item["id"] for item in json_of(response)["items"]]
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
        assert error_part(answer) == error_part(reference), (answer.text, reference.text)
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
        assert error_part(answer) == error_part(reference), (answer.text, reference.text)
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
