"""Schemathesis fuzzes the app, in process, against the OpenAPI document it serves.

Each test is one run of Schemathesis' engine (what `schemathesis run` does, without
its CLI) over the ASGI app of the `client` fixture: the document's examples, the
coverage phase (boundary values, wrong types, missing parts, undeclared methods),
random fuzzing in positive and negative mode, then stateful sequences along the
links it infers between operations (a created constituent's id into the routes
that take one). Every built-in check is on: not_a_server_error,
status_code_conformance, content_type_conformance, response_schema_conformance,
response_headers_conformance, positive_data_acceptance, negative_data_rejection,
missing_required_header, ignored_auth, unsupported_method, allow_header_conformance,
use_after_free, ensure_resource_availability, object_level_authorization; all but
max_response_time, which needs a time limit and would only measure the machine.

A check failing, an exception out of the app or an unfinished run fails the test,
except the failures of the bugs listed in BUGS, which make it a strict xfail.

It runs once per way of sending a key (CONTRACT §6): Bearer with the read-write key,
Bearer with the read-only key, HTTP Basic with the key as user name and an empty
password. Before it, the account gets constituents and numbers, and path ids are
drawn from them half of the time, so paths with ids reach real objects rather than
404 only.

Bounded and repeatable: MAX_EXAMPLES generated cases per operation, STATEFUL_RUNS
state machine runs, a fixed seed per way, Hypothesis derandomized, no shrinking, no
example database, no Schemathesis cache; the whole file stays well under a minute
on SQLite and PostgreSQL together.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

import pytest
import schemathesis
import schemathesis.engine
from schemathesis.engine import Status, StopReason, events
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.openapi.checks import UseAfterFree

from phonebook.settings import Settings
from tests.conftest import Api

MAX_EXAMPLES: Final = 15
STATEFUL_RUNS: Final = 5
WRITES: Final = ("POST", "PATCH", "DELETE")

# The answers that say a schema-valid request was understood, and turned down for a
# reason the document states but JSON Schema cannot (positive_data_acceptance):
# 412, If-Match naming another version (any string is a valid If-Match); 422, the
# cross-field and content rules of CONTRACT §3-4 (type id and name naming different
# types, a number without digits, control characters, an organisation without
# org_name) and an Idempotency-Key reused with another body. The rest are
# Schemathesis' defaults.
ACCEPTED_STATUSES: Final = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429", "5xx"]


@dataclass(frozen=True)
class Way:
    """One way of sending the key, and how hard to fuzz the writes with it."""

    name: str
    seed: int
    read_only: bool = False
    basic: bool = False
    # The coverage phase on POST/PATCH/DELETE, and the cases fuzzed for each of them.
    write_coverage: bool = True
    write_examples: int = MAX_EXAMPLES

    def auth(self, key: str) -> dict[str, Any]:
        """Schemathesis' auth config: the document's own security scheme, with this key."""
        if self.basic:
            return {"openapi": {"basic": {"username": key, "password": ""}}}
        return {"openapi": {"bearer": {"bearer": key}}}

    def operations(self) -> list[dict[str, Any]]:
        """Schemathesis' per-operation config: lighter on the writes, where asked."""
        if self.write_coverage and self.write_examples == MAX_EXAMPLES:
            return []
        lighter = {
            "include-method": list(WRITES),
            "generation": {"max-examples": self.write_examples},
            "phases": {"coverage": {"enabled": self.write_coverage}},
        }
        return [lighter]


BEARER: Final = Way("bearer", seed=20250601)
# Every write answers 403 before its body is read: a few cases each show that.
READ_ONLY: Final = Way(
    "read_only", seed=20250602, read_only=True, write_coverage=False, write_examples=5
)
# Basic changes how the key travels, not what bodies mean: the bearer run already
# walks the write bodies' boundaries (coverage), so this one fuzzes them only.
BASIC: Final = Way("basic", seed=20250603, basic=True, write_coverage=False)


class KnownBugError(AssertionError):
    """Only failures of bugs already reported (BUGS): what the xfail marks expect."""


@dataclass(frozen=True)
class Bug:
    """A failure the fuzzer found and this file reports, told apart from any other."""

    check: str
    operation: str  # the label Schemathesis gives it; "" for any operation
    answer: str  # a piece of the response that shows it; "" for any
    summary: str


SEARCH_IS_AN_ID: Final = Bug(
    "unsupported_method",
    "GET /api/v1/constituents/search",
    "",
    "PATCH and DELETE /api/v1/constituents/search reach the /constituents/{id} route "
    "(search taken for an id): PATCH answers 400 without a body and 404 with one, DELETE "
    "404, where the document and CONTRACT §6 promise 405 with Allow",
)
DIGITLESS_SEARCH_TERM: Final = Bug(
    "positive_data_acceptance",
    "GET /api/v1/constituents/search",
    "needs at least one digit",
    "the document's q[] pattern accepts phone_number=TERM without a digit, which the "
    "app answers 400",
)
NON_ASCII_IDEMPOTENCY_KEY: Final = Bug(
    "positive_data_acceptance",
    "",
    "Idempotency-Key must be 1 to 255 printable ASCII characters",
    "the document's Idempotency-Key schema (any string of 1 to 255 characters) accepts "
    "keys that are not printable ASCII, which the app answers 400",
)
BUGS: Final = (SEARCH_IS_AN_ID, DIGITLESS_SEARCH_TERM, NON_ASCII_IDEMPOTENCY_KEY)


def way_with_bugs(way: Way, *bugs: Bug) -> Any:
    """A test case expecting exactly these bugs: a strict xfail while they show.

    Once one is fixed the test fails (a plain AssertionError, which the xfail does not
    accept), saying which bug to take off here.
    """
    marks: tuple[pytest.MarkDecorator, ...] = ()
    if bugs:
        reason = "; ".join(bug.summary for bug in bugs)
        marks = (pytest.mark.xfail(raises=KnownBugError, strict=True, reason=reason),)
    return pytest.param(way, frozenset(bugs), id=way.name, marks=marks)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No throttling of failed authentication here.

    The fuzzer fails authentication on purpose (ignored_auth, the coverage phase's
    missing and wrong credentials); past auth_failure_limit every later request
    would answer 429 and the rest of the run would test nothing.
    """
    return dataclasses.replace(settings, auth_failure_limit="")


@dataclass(frozen=True)
class Seeded:
    """The ids of what seed() made."""

    constituent_ids: list[int]
    number_ids: list[int]


def seed(api: Api) -> Seeded:
    """Constituents (a person, an organisation) with numbers of several types."""
    constituents: list[int] = []
    numbers: list[int] = []
    for first_name in ("Ada", "Grace"):
        constituent_id = api.constituent(first_name=first_name, external_constituent_id="X1")
        constituents.append(constituent_id)
        for fields in (
            {"is_preferred": True},
            {"number": "+44 20 7946 0958", "phone_type_name": "Work"},
            {"number": "ada.lovelace", "phone_number_type_id": 6},
        ):
            numbers.append(int(api.number(constituent_id, **fields)["id"]))
    constituents.append(api.constituent(is_org=True, org_name="Acme", last_name=None))
    return Seeded(constituents, numbers)


def config(way: Way, key: str, seeded: Seeded) -> schemathesis.Config:
    """Schemathesis' config for one run (the keys of its schemathesis.toml)."""
    ids = seeded.constituent_ids + seeded.number_ids
    return schemathesis.Config.from_dict(
        {
            "seed": way.seed,
            "cache": {"enabled": False},
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "no-shrink": True,
                "database": "none",
            },
            # Only the timing health check: a busy machine must not fail the run.
            "suppress-health-check": ["too_slow"],
            "checks": {
                "enabled": True,
                "positive_data_acceptance": {"expected-statuses": ACCEPTED_STATUSES},
            },
            "phases": {"stateful": {"generation": {"max-examples": STATEFUL_RUNS}}},
            "auth": way.auth(key),
            # access_token is also a plain query parameter; any other value than the
            # key in the header is two credentials (400), so send that one when at all.
            "dictionaries": {
                "key": {"values": [key]},
                "ids": {"values": ids},
                "constituent_ids": {"values": seeded.constituent_ids},
            },
            "parameters": {
                "query.access_token": {"dictionary": "key"},
                "path.id": {"dictionary": "ids", "probability": 0.5},
                "path.constituent_id": {"dictionary": "constituent_ids", "probability": 0.5},
            },
            "operations": way.operations(),
        }
    )


@dataclass(frozen=True)
class Finding:
    """The first failure of one check, operation and kind: the request and the answer."""

    check: str
    operation: str
    title: str
    example: str
    answer: str

    @property
    def bug(self) -> Bug | None:
        """The reported bug this failure shows, if any."""
        for bug in BUGS:
            if (
                bug.check == self.check
                and bug.operation in ("", self.operation)
                and bug.answer in self.answer
            ):
                return bug
        return None


@dataclass
class Outcome:
    """What one run found, and what it saw answered."""

    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # (operation label, status code) -> responses, for the sanity checks.
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    stop_reason: StopReason | None = None

    def record(self, recorder: ScenarioRecorder) -> None:
        for case_id, interaction in recorder.interactions.items():
            node = recorder.cases.get(case_id)
            if interaction.response is not None and node is not None:
                operation = node.value.operation.label
                self.statuses[(operation, interaction.response.status_code)] += 1
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.status != Status.FAILURE or check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                if isinstance(failure, UseAfterFree) and _answered_by_design(recorder, failure):
                    continue
                node = recorder.cases.get(case_id)
                operation = node.value.operation.label if node is not None else recorder.label
                key = (check.name, operation, failure.title)
                if key not in self.findings:
                    response = recorder.find_response(case_id=case_id)
                    answer = "no response"
                    if response is not None:
                        body = response.content.decode("utf-8", "replace")[:400]
                        answer = f"{response.status_code} {body}"
                    example = f"{failure.message.strip()}\n  {check.failure_info.code_sample}"
                    self.findings[key] = Finding(
                        check.name, operation, failure.title, example, answer
                    )

    def report(self) -> str:
        lines = [
            f"[{finding.check}] {finding.operation}: {finding.title}\n  {finding.example}"
            f"\n  -> {finding.answer}"
            for finding in self.findings.values()
        ]
        return "\n\n".join([*lines, *self.errors])

    def responses(self, *, methods: tuple[str, ...], status: range) -> int:
        return sum(
            count
            for (operation, code), count in self.statuses.items()
            if operation.split(" ")[0] in methods and code in status
        )


def _answered_by_design(recorder: ScenarioRecorder, failure: UseAfterFree) -> bool:
    """A read after a DELETE that Phonebook answers on purpose (README, "Audit trail").

    A history outlives its number or constituent, and a restore brings the deleted
    one back with its id. use_after_free counts a POST as re-creating a resource
    only on the resource's own path or a prefix of it, so it cannot know that a
    POST to `{deleted}/restore` between the DELETE and the read did.
    """
    deleted = failure.free.split(" ", 1)[1]
    if failure.usage.split(" ", 1)[1].startswith(f"{deleted}/history"):
        return True
    after_delete = False
    for case in recorder.find_all_cases():
        after_delete = after_delete or case.id == failure.deleted_case_id
        response = recorder.find_response(case_id=case.id)
        if (
            after_delete
            and case.operation.method.upper() == "POST"
            and case.formatted_path == f"{deleted}/restore"
            and response is not None
            and 200 <= response.status_code < 300
        ):
            return True
    return False


def fuzz(api: Api, way: Way, key: str, seeded: Seeded) -> Outcome:
    """One engine run over the app behind api.client, with the document it serves."""
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", api.client.app, config=config(way, key, seeded)
    )
    outcome = Outcome()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            outcome.record(event.recorder)
        elif isinstance(event, events.NonFatalError):
            # An exception out of the app (Starlette re-raises after its 500) lands here.
            error = f"[error] {event.label}: {event.info.title}: {event.info.message}"
            if event.info.code_sample:
                error += f"\n  {event.info.code_sample}"
            outcome.errors.append(error)
        elif isinstance(event, events.FatalError):
            outcome.errors.append(f"[fatal] {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            outcome.stop_reason = event.stop_reason
            outcome.errors.extend(f"[after run] {failure.title}" for failure in event.failures)
    outcome.errors = list(dict.fromkeys(outcome.errors))
    return outcome


@pytest.mark.parametrize(
    ("way", "bugs"),
    [
        way_with_bugs(BEARER),
        way_with_bugs(READ_ONLY),
        way_with_bugs(BASIC),
    ],
)
def test_fuzz(api: Api, read_only_api: Api, way: Way, bugs: frozenset[Bug]) -> None:
    seeded = seed(api)
    key = read_only_api.key if way.read_only else api.key
    outcome = fuzz(api, way, key, seeded)

    # The run happened, authenticated, and reached seeded objects.
    assert outcome.stop_reason == StopReason.COMPLETED, outcome.report()
    assert outcome.statuses[("GET /api/v1/constituents/{id}", 200)] > 0
    assert outcome.statuses[("GET /api/v1/phone_numbers/{id}", 200)] > 0
    writes_done = outcome.responses(methods=WRITES, status=range(200, 300))
    if way.read_only:
        assert writes_done == 0
        assert outcome.responses(methods=WRITES, status=range(403, 404)) > 0
    else:
        assert writes_done > 0

    # No 5xx, no answer outside the document, no other check failing...
    assert not outcome.errors, outcome.report()
    unknown = [finding for finding in outcome.findings.values() if finding.bug is None]
    assert not unknown, outcome.report()
    # ...but the bugs already reported, all of them still there.
    found = {finding.bug for finding in outcome.findings.values() if finding.bug is not None}
    fixed = [bug.summary for bug in bugs - found]
    assert not fixed, f"no longer found, take off this test's bugs: {fixed}"
    if found:
        raise KnownBugError(outcome.report())
