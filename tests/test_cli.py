"""The phonebook command, run as a real process against a real SQLite file."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path
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
