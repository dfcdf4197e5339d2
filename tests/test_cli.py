"""The phonebook command, run as a real process against a real SQLite file."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from starlette.testclient import TestClient

from phonebook.app import build_app
from phonebook.service import accounts
from phonebook.settings import Settings
from phonebook.store import migrate
from phonebook.store.accounts import account_exists
from phonebook.store.database import Database
from tests.conftest import Api
from tests.server_process import PHONEBOOK, clean_env, serving

COMMAND_TIMEOUT_S = 60


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(PHONEBOOK), *args],
        cwd=cwd,
        env=clean_env() if env is None else env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )


def sqlite_url(tmp_path: Path, name: str = "x.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def ok(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The stdout lines of a command that must have succeeded."""
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout.splitlines()


def failed_with_one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one stderr line of a command that must have failed cleanly."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def new_key(tmp_path: Path, *extra: str) -> tuple[str, str]:
    """Migrate a fresh file, create an account and a key through the CLI: (url, key)."""
    url = sqlite_url(tmp_path)
    ok(run("--database", url, "migrate", cwd=tmp_path))
    account_id = ok(run("--database", url, "accounts", "create", "Acme", cwd=tmp_path))[-1]
    key = ok(run("--database", url, "keys", "create", account_id, *extra, cwd=tmp_path))[-1]
    return url, key


def status_of(url: str, key: str, method: str, path: str, body: object = None) -> int:
    """The status the in-process app answers for one request made with key."""
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(build_app(Settings(database_url=url))) as client:
        return client.request(method, path, headers=headers, json=body).status_code


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["migrate"],
        ["accounts"],
        ["accounts", "create"],
        ["keys"],
        ["keys", "create"],
        ["keys", "revoke"],
        ["demo"],
        ["audit"],
        ["restore"],
        ["optimize"],
    ],
    ids=lambda command: " ".join(command) or "phonebook",
)
def test_help(command: list[str], tmp_path: Path) -> None:
    lines = ok(run(*command, "--help", cwd=tmp_path))
    assert lines[0].startswith("Usage: phonebook")
    assert not list(tmp_path.iterdir()), "--help must not create a database"


def test_accounts_create_prints_the_id_last(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    ok(run("--database", url, "migrate", cwd=tmp_path))
    first = ok(run("--database", url, "accounts", "create", "Acme", cwd=tmp_path))
    second = ok(run("--database", url, "accounts", "create", "Beta", cwd=tmp_path))
    assert int(second[-1]) > int(first[-1]) > 0
    database = Database(url)
    try:
        with database.reading() as conn:
            assert account_exists(conn, int(first[-1]))
    finally:
        database.dispose()


def test_keys_create_prints_a_working_key_last(tmp_path: Path) -> None:
    url, key = new_key(tmp_path)
    assert key.startswith(accounts.KEY_PREFIX)
    assert status_of(url, key, "GET", "/api/v1/constituents") == 200
    assert status_of(url, key, "POST", "/api/v1/constituents", {"last_name": "Doe"}) == 200


def test_read_only_key_may_read_but_not_write(tmp_path: Path) -> None:
    url, key = new_key(tmp_path, "--read-only", "--label", "reports")
    assert status_of(url, key, "GET", "/api/v1/constituents") == 200
    assert status_of(url, key, "POST", "/api/v1/constituents", {"last_name": "Doe"}) == 403


def test_keys_revoke(tmp_path: Path) -> None:
    url, key = new_key(tmp_path)
    assert ok(run("--database", url, "keys", "revoke", key, cwd=tmp_path))[-1] == "revoked"
    assert status_of(url, key, "GET", "/api/v1/constituents") == 401
    again = failed_with_one_line(run("--database", url, "keys", "revoke", key, cwd=tmp_path))
    assert key not in again


def test_keys_create_for_an_unknown_account_fails_in_one_line(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    ok(run("--database", url, "migrate", cwd=tmp_path))
    line = failed_with_one_line(run("--database", url, "keys", "create", "999", cwd=tmp_path))
    assert "999" in line


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--database", "postgresql://nobody@127.0.0.1:1/x", "migrate"], {}),
        (["--database", "postgresql://nobody@127.0.0.1:1/x", "accounts", "create", "A"], {}),
        (["--database", "not a url", "migrate"], {}),
        (["migrate"], {"PHONEBOOK_PORT": "eighty"}),
    ],
    ids=["unreachable-migrate", "unreachable-accounts", "bad-url", "bad-env"],
)
def test_bad_configuration_fails_in_one_line(
    args: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    failed_with_one_line(run(*args, cwd=tmp_path, env=clean_env(**env)))
    assert not (tmp_path / "phonebook.db").exists()


def test_database_url_from_the_environment(tmp_path: Path) -> None:
    from_env = sqlite_url(tmp_path, "from-env.db")
    env = clean_env(PHONEBOOK_DATABASE_URL=from_env)
    ok(run("migrate", cwd=tmp_path, env=env))
    assert (tmp_path / "from-env.db").exists()
    assert not (tmp_path / "phonebook.db").exists()
    # The flag still wins over the variable.
    ok(run("--database", sqlite_url(tmp_path, "flag.db"), "migrate", cwd=tmp_path, env=env))
    assert (tmp_path / "flag.db").exists()


def test_default_database_is_phonebook_db_in_the_working_directory(tmp_path: Path) -> None:
    ok(run("migrate", cwd=tmp_path))
    account_id = int(ok(run("accounts", "create", "Acme", cwd=tmp_path))[-1])
    database = Database(sqlite_url(tmp_path, "phonebook.db"))
    try:
        assert migrate.current_revision(database) == migrate.head_revision()
        key = accounts.create_key(database, account_id, read_only=False)
        assert accounts.authenticate(database, key) is not None
    finally:
        database.dispose()


_DEMO_KEY = re.compile(r"^Demo API key \(read-write, account (\d+)\): (\S+)$")
_DEMO_CURL = re.compile(r'^Try: curl -H "Authorization: Bearer (\S+)" (\S+)$')


def run_demo(tmp_path: Path, url: str) -> tuple[str, str]:
    """Run demo on url: (the key it printed, the path of its curl URL)."""
    lines = ok(run("--database", url, "demo", cwd=tmp_path))
    key_lines = [m for m in map(_DEMO_KEY.match, lines) if m]
    curl_lines = [m for m in map(_DEMO_CURL.match, lines) if m]
    assert len(key_lines) == 1, lines
    assert len(curl_lines) == 1, lines
    key = key_lines[0].group(2)
    assert curl_lines[0].group(1) == key
    return key, urlsplit(curl_lines[0].group(2)).path


def demo_numbers(url: str, key: str, path: str) -> list[str]:
    with TestClient(build_app(Settings(database_url=url))) as client:
        response = client.get(path, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.text
        body = response.json()
        constituents = client.get(
            "/api/v1/constituents", headers={"Authorization": f"Bearer {key}"}
        )
        assert constituents.json()["total_items"] == 1, "demo duplicated its constituent"
    assert body["item_type"] == "phone_number"
    assert body["total_items"] == len(body["items"])
    return [item["number"] for item in body["items"]]


def test_demo_prints_a_working_key_and_curl_line(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)  # not migrated: demo migrates itself
    first_key, path = run_demo(tmp_path, url)
    assert re.fullmatch(r"/api/v1/constituents/\d+/phone_numbers", path)
    numbers = demo_numbers(url, first_key, path)
    assert numbers == ["(888) 555-0044", "222-555-1212"]

    second_key, second_path = run_demo(tmp_path, url)
    assert second_key != first_key
    assert second_path == path
    assert status_of(url, first_key, "GET", path) == 401
    assert demo_numbers(url, second_key, path) == numbers


def test_serve_migrates_a_fresh_file_and_answers(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    assert not (tmp_path / "x.db").exists()
    with serving(url, tmp_path) as server:
        with httpx2.Client(base_url=server.base_url, timeout=5.0) as client:
            health = client.get("/healthz")
            unauthenticated = client.get("/api/v1/constituents")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        assert unauthenticated.status_code == 401
        database = Database(url)
        try:
            assert migrate.current_revision(database) == migrate.head_revision()
        finally:
            database.dispose()
        server.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught, so
        # the exit status is "killed by SIGTERM" after a clean shutdown.
        assert server.process.wait(timeout=10) in {0, -signal.SIGTERM}
    assert "Application shutdown complete" in server.log.read_text()


def test_database_may_follow_the_command_name(tmp_path: Path) -> None:
    """`phonebook migrate --database URL` works as `phonebook --database URL migrate` does."""
    url = sqlite_url(tmp_path, "after.db")
    ok(run("migrate", "--database", url, cwd=tmp_path))
    account_id = ok(run("accounts", "create", "Late", "--database", url, cwd=tmp_path))[-1]
    key = ok(run("keys", "create", account_id, "--database", url, cwd=tmp_path))[-1]
    assert status_of(url, key, "GET", "/api/v1/constituents") == 200
    assert not (tmp_path / "phonebook.db").exists()


# --- audit and restore ---

EVENT_RECORD_KEYS = [
    "id",
    "account_id",
    "key_id",
    "entity",
    "entity_id",
    "action",
    "occurred_at",
    "before",
    "after",
]
NUMBER_COLUMNS = {
    "id",
    "constituent_id",
    "number",
    "phone_number_type_id",
    "is_preferred",
    "not_current",
    "normalized_number",
    "created_at",
    "updated_at",
}


@dataclass(frozen=True)
class Audited:
    """A file where account A made changes through HTTP, and account B one."""

    url: str
    account_id: int
    key: str
    key_id: int
    other_account_id: int
    constituent_id: int
    kept_id: int  # made preferred, still there
    deleted_id: int  # once preferred, handed over, then deleted
    other_constituent_id: int

    def call(self, method: str, path: str, body: object = None) -> Any:
        """One request to the in-process app with A's key; its JSON body (it must answer 200)."""
        headers = {"Authorization": f"Bearer {self.key}"}
        with TestClient(build_app(Settings(database_url=self.url))) as client:
            response = client.request(method, path, headers=headers, json=body)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def audited(tmp_path: Path) -> Audited:
    url, key = new_key(tmp_path)
    database = Database(url)
    try:
        caller = accounts.authenticate(database, key)
        assert caller is not None
        other_account = accounts.create_account(database, "Beta")
        other_key = accounts.create_key(database, other_account, read_only=False)
    finally:
        database.dispose()
    with TestClient(build_app(Settings(database_url=url))) as client:

        def call(method: str, path: str, body: object = None, auth: str = key) -> Any:
            response = client.request(
                method, path, headers={"Authorization": f"Bearer {auth}"}, json=body
            )
            assert response.status_code == 200, response.text
            return response.json()

        cid = call("POST", "/api/v1/constituents", {"last_name": "Doe"})["id"]
        numbers = f"/api/v1/constituents/{cid}/phone_numbers"
        first = call("POST", numbers, {"number": "555-0100", "is_preferred": True})["id"]
        second = call("POST", numbers, {"number": "555-0101"})["id"]
        call("PATCH", f"/api/v1/phone_numbers/{second}", {"is_preferred": True})
        call("DELETE", f"/api/v1/phone_numbers/{first}")
        theirs = call("POST", "/api/v1/constituents", {"last_name": "Roe"}, auth=other_key)
    return Audited(
        url=url,
        account_id=caller.account_id,
        key=key,
        key_id=caller.key_id,
        other_account_id=other_account,
        constituent_id=cid,
        kept_id=second,
        deleted_id=first,
        other_constituent_id=theirs["id"],
    )


def audit_records(audited: Audited, tmp_path: Path, *args: str) -> list[dict[str, Any]]:
    lines = ok(run("--database", audited.url, "audit", *args, cwd=tmp_path))
    records: list[dict[str, Any]] = [json.loads(line) for line in lines]
    return records


def summary(records: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return [(r["entity"], r["entity_id"], r["action"]) for r in records]


def test_audit_prints_an_accounts_events_oldest_first(audited: Audited, tmp_path: Path) -> None:
    records = audit_records(audited, tmp_path, "--account", str(audited.account_id))
    cid, kept, deleted = audited.constituent_id, audited.kept_id, audited.deleted_id
    assert summary(records) == [
        ("constituent", cid, "create"),
        ("phone_number", deleted, "create"),
        ("phone_number", kept, "create"),
        ("phone_number", deleted, "update"),  # the handover clears the old preferred one
        ("phone_number", kept, "update"),
        ("phone_number", deleted, "delete"),
    ]
    for record in records:
        assert list(record) == EVENT_RECORD_KEYS
        assert record["account_id"] == audited.account_id
        assert record["key_id"] == audited.key_id
        datetime.fromisoformat(record["occurred_at"])
    ids = [r["id"] for r in records]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)

    assert records[0]["before"] is None
    assert records[0]["after"]["last_name"] == "Doe"
    assert "sort_name" not in records[0]["after"]  # raw columns, not the API shape
    handover = records[3]
    assert set(handover["before"]) == set(handover["after"]) == NUMBER_COLUMNS
    assert (handover["before"]["is_preferred"], handover["after"]["is_preferred"]) == (True, False)
    assert handover["after"]["constituent_id"] == cid
    removal = records[5]
    assert removal["before"] == handover["after"]
    assert removal["after"] is None


def test_audit_filters(audited: Audited, tmp_path: Path) -> None:
    everything = audit_records(audited, tmp_path)
    assert {r["account_id"] for r in everything} == {audited.account_id, audited.other_account_id}
    assert summary(everything)[-1] == ("constituent", audited.other_constituent_id, "create")

    theirs = audit_records(audited, tmp_path, "--account", str(audited.other_account_id))
    assert summary(theirs) == [("constituent", audited.other_constituent_id, "create")]
    assert theirs[0]["key_id"] not in (None, audited.key_id)

    number = audit_records(audited, tmp_path, "--number", str(audited.deleted_id))
    assert [r["action"] for r in number] == ["create", "update", "delete"]
    assert {r["entity"] for r in number} == {"phone_number"}

    constituent = audit_records(audited, tmp_path, "--constituent", str(audited.constituent_id))
    assert summary(constituent) == [("constituent", audited.constituent_id, "create")]

    latest = audit_records(audited, tmp_path, "--account", str(audited.account_id), "--limit", "2")
    assert summary(latest) == [
        ("phone_number", audited.kept_id, "update"),
        ("phone_number", audited.deleted_id, "delete"),
    ]
    assert audit_records(audited, tmp_path, "--account", "987654") == []


@pytest.mark.parametrize(
    "args",
    [["--number", "1", "--constituent", "1"], ["--limit", "0"], ["--number", "one"]],
    ids=["number-and-constituent", "limit-0", "not-an-id"],
)
def test_audit_usage_errors(audited: Audited, tmp_path: Path, args: list[str]) -> None:
    result = run("--database", audited.url, "audit", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "Usage: phonebook audit" in result.stderr


def test_audit_number_and_constituent_together_says_so(audited: Audited, tmp_path: Path) -> None:
    result = run(
        "--database", audited.url, "audit", "--number", "1", "--constituent", "2", cwd=tmp_path
    )
    assert "not both" in result.stderr


def test_restore_brings_a_number_back_as_the_operator(audited: Audited, tmp_path: Path) -> None:
    number_id, account = audited.deleted_id, str(audited.account_id)
    lines = ok(
        run(
            "--database", audited.url, "restore", str(number_id), "--account", account, cwd=tmp_path
        )
    )
    assert lines == [f"restored phone number {number_id} of constituent {audited.constituent_id}"]

    shown = audited.call("GET", f"/api/v1/phone_numbers/{number_id}")
    assert (shown["id"], shown["number"], shown["is_preferred"]) == (number_id, "555-0100", False)
    records = audit_records(audited, tmp_path, "--number", str(number_id))
    assert [r["action"] for r in records] == ["create", "update", "delete", "restore"]
    restored = records[-1]
    assert restored["key_id"] is None  # the command line acts with no key
    assert restored["account_id"] == audited.account_id
    assert restored["before"] is None
    deleted_as = records[-2]["before"]
    assert {k: v for k, v in restored["after"].items() if k != "updated_at"} == {
        k: v for k, v in deleted_as.items() if k != "updated_at"
    }


def test_restore_failures_are_one_line(audited: Audited, tmp_path: Path) -> None:
    def restore(number_id: int, account_id: int) -> str:
        return failed_with_one_line(
            run(
                "--database",
                audited.url,
                "restore",
                str(number_id),
                "--account",
                str(account_id),
                cwd=tmp_path,
            )
        )

    assert "not deleted" in restore(audited.kept_id, audited.account_id)
    assert str(audited.deleted_id) in restore(audited.deleted_id, audited.other_account_id)
    assert "987654" in restore(987654, audited.account_id)
    audited.call("DELETE", f"/api/v1/constituents/{audited.constituent_id}")
    assert str(audited.constituent_id) in restore(audited.deleted_id, audited.account_id)
    # None of the failures recorded anything.
    records = audit_records(audited, tmp_path, "--number", str(audited.deleted_id))
    assert [r["action"] for r in records] == ["create", "update", "delete"]


def test_restore_needs_an_account(audited: Audited, tmp_path: Path) -> None:
    result = run("--database", audited.url, "restore", str(audited.deleted_id), cwd=tmp_path)
    assert result.returncode == 2
    assert "--account" in result.stderr
    assert "Traceback" not in result.stderr


def test_audit_and_restore_on_each_backend(api: Api, database_url: str, tmp_path: Path) -> None:
    """The same commands against the test database of each backend, changed through HTTP."""
    cid = api.constituent()
    number = api.number(cid, is_preferred=True)
    assert api.delete(f"/api/v1/phone_numbers/{number['id']}").status_code == 200
    base = ("--database", database_url)
    lines = ok(
        run(*base, "restore", str(number["id"]), "--account", str(api.account_id), cwd=tmp_path)
    )
    assert lines == [f"restored phone number {number['id']} of constituent {cid}"]
    shown = api.get(f"/api/v1/phone_numbers/{number['id']}")
    assert shown.status_code == 200
    assert shown.json()["is_preferred"] is True

    printed = ok(run(*base, "audit", "--account", str(api.account_id), cwd=tmp_path))
    records = [json.loads(line) for line in printed]
    assert [(r["entity"], r["action"], r["key_id"] is None) for r in records] == [
        ("constituent", "create", False),
        ("phone_number", "create", False),
        ("phone_number", "delete", False),
        ("phone_number", "restore", True),
    ]
    history = api.get(f"/api/v1/phone_numbers/{number['id']}/history").json()["items"]
    assert [item["id"] for item in history] == [r["id"] for r in records[1:]]
    assert history[-1]["key_id"] is None


def test_restore_constituent_brings_its_numbers_back(audited: Audited, tmp_path: Path) -> None:
    cid, account = audited.constituent_id, str(audited.account_id)
    audited.call("DELETE", f"/api/v1/constituents/{cid}")
    base = ("--database", audited.url, "restore", str(cid), "--account", account)
    lines = ok(run(*base, "--constituent", cwd=tmp_path))
    assert lines == [f"restored constituent {cid} with 1 number(s)"]
    shown = audited.call("GET", f"/api/v1/constituents/{cid}")
    assert [n["id"] for n in shown["phone_numbers"]] == [audited.kept_id]
    records = audit_records(audited, tmp_path, "--constituent", str(cid))
    assert [r["action"] for r in records][-2:] == ["delete", "restore"]
    assert records[-2]["before"]["deleted_phone_number_ids"] == [audited.kept_id]
    again = failed_with_one_line(run(*base, "--constituent", cwd=tmp_path))
    assert "not deleted" in again


def test_optimize_on_each_backend(api: Api, database_url: str, tmp_path: Path) -> None:
    cid = api.constituent()
    api.number(cid, number="(888) 555-0044")
    assert ok(run("--database", database_url, "optimize", cwd=tmp_path)) == ["optimized"]
    found = api.get("/api/v1/constituents/search", params={"q[]": "phone_number=5550044"})
    assert [c["id"] for c in found.json()["items"]] == [cid]
