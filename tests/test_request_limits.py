"""Request limits: JSON nesting depth (400), body read time (408), statement time (503).

Body size (413) and the number of phone numbers in one create are held by
tests/test_errors.py and tests/api/test_constituents.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Select, literal_column, select, text
from sqlalchemy.exc import OperationalError
from starlette.types import Message

from phonebook.api.requests import MAX_JSON_DEPTH
from phonebook.app import build_app
from phonebook.service import accounts
from phonebook.service import phone_numbers as phone_number_service
from phonebook.settings import Settings, as_environ, load_settings
from phonebook.store.database import Database
from tests.conftest import Api
from tests.server_process import serving
from tests.test_errors import assert_error_shape

STATEMENT_LIMIT_MS = 200
# A runaway statement is stopped near STATEMENT_LIMIT_MS; unstopped, it runs far past this.
STOPPED_WITHIN_S = 5.0
# Counting to 1e8 takes SQLite about 15 s here, pg_sleep(10) ten: far past the bound,
# yet short enough that a broken limit fails the test rather than stalling the suite.
RUNAWAY = {
    "sqlite": "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1e8) "
    "SELECT max(n) FROM c",
    "postgresql": "SELECT pg_sleep(10)",
}
# The same for the hot read path (FastReads caches statements by identity: module level).
RUNAWAY_SELECT: dict[str, Select[Any]] = {
    backend: select(literal_column(f"({sql})")) for backend, sql in RUNAWAY.items()
}
# A write that runs away: SQLite then rolls back the whole transaction.
RUNAWAY_INSERT = (
    "INSERT INTO scratch SELECT count(*) FROM (WITH RECURSIVE c(n) AS "
    "(SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1e8) SELECT max(n) FROM c)"
)
# 0.3 to 0.4 s on each backend: well past a 50 ms limit, short enough to finish.
SLOWISH = {
    "sqlite": "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 2e6) "
    "SELECT max(n) FROM c",
    "postgresql": "SELECT pg_sleep(0.4)",
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    """As conftest's, with a statement limit short enough to test."""
    return Settings(
        database_url=database_url,
        rate_limit="1000000/minute",
        statement_timeout_ms=STATEMENT_LIMIT_MS,
    )


def _backend(database: Database) -> str:
    return "sqlite" if database.is_sqlite else "postgresql"


def _constituent_count(api: Api) -> int:
    response = api.get("/api/v1/constituents")
    assert response.status_code == 200, response.text
    total: int = response.json()["total_items"]
    return total


# JSON nesting depth.


def _nested_body(levels: int, **extra: object) -> bytes:
    """A constituent create whose key "deep" makes the body `levels` deep in all."""
    fields = json.dumps({"last_name": "Doe", **extra})[1:-1]
    deep = "[" * (levels - 1) + "]" * (levels - 1)
    return f'{{{fields}, "deep": {deep}}}'.encode()


def test_a_body_one_level_too_deep_is_400_and_writes_nothing(api: Api) -> None:
    response = api.send("POST", "/api/v1/constituents", _nested_body(MAX_JSON_DEPTH + 1))
    body = assert_error_shape(response, 400)
    assert body["description"] == "The request body nests deeper than 32 levels."
    assert _constituent_count(api) == 0


@pytest.mark.parametrize(
    "siblings",
    [
        {},
        # Brackets beyond the limit in number (not depth), so the depth is walked.
        {"wide": [[] for _ in range(MAX_JSON_DEPTH)]},
        # ... and inside strings, which the bracket count cannot tell apart.
        {"first_name": "[{" * MAX_JSON_DEPTH},
    ],
)
def test_32_levels_parse_and_meet_the_field_rules(api: Api, siblings: dict[str, Any]) -> None:
    body = assert_error_shape(
        api.send("POST", "/api/v1/constituents", _nested_body(MAX_JSON_DEPTH, **siblings)), 422
    )
    assert "deep" in body["errors"]
    assert _constituent_count(api) == 0


def test_brackets_in_strings_and_many_objects_are_not_depth(api: Api) -> None:
    numbers = [{"number": f"555-01{i:02}"} for i in range(MAX_JSON_DEPTH + 8)]
    body = {"last_name": "[[{{" * 20, "phone_numbers": numbers}
    response = api.post("/api/v1/constituents", body)
    assert response.status_code == 200, response.text
    assert len(response.json()["phone_numbers"]) == len(numbers)


@pytest.mark.parametrize("content", [b"[" * 20_000, b'{"a": ' + b"[" * 20_000 + b"]" * 20_000])
def test_thousands_of_brackets_within_the_size_limit_are_a_clean_400(
    api: Api, content: bytes
) -> None:
    assert len(content) < Settings().max_body_bytes
    response = api.send("POST", "/api/v1/constituents", content)
    body = assert_error_shape(response, 400)
    assert body["description"] == "The request body nests deeper than 32 levels."
    assert _constituent_count(api) == 0


# Body read time.


def test_settings_carry_the_limits_through_the_environment() -> None:
    environ = {"PHONEBOOK_BODY_TIMEOUT_SECONDS": "0.5", "PHONEBOOK_STATEMENT_TIMEOUT_MS": "200"}
    settings = load_settings(environ)
    assert (settings.body_timeout_seconds, settings.statement_timeout_ms) == (0.5, 200)
    assert load_settings(as_environ(settings)) == settings
    with pytest.raises(ValueError, match="PHONEBOOK_BODY_TIMEOUT_SECONDS must be a number"):
        load_settings({"PHONEBOOK_BODY_TIMEOUT_SECONDS": "soon"})


def _post_scope(path: str, key: str, declared_length: int) -> dict[str, Any]:
    headers = [
        (b"host", b"testserver"),
        (b"authorization", f"Bearer {key}".encode()),
        (b"content-length", str(declared_length).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def _call_with_body(
    settings: Settings, database: Database, key: str, parts: list[bytes]
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """POST a constituent whose body is parts, then (if declared longer) nothing more, ever."""
    app = build_app(settings, database)
    pending = [{"type": "http.request", "body": part, "more_body": True} for part in parts]
    sent: list[Message] = []

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        await asyncio.Event().wait()  # a client that stalls mid-body
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    async def call() -> None:
        scope = _post_scope("/api/v1/constituents", key, declared_length=100)
        await asyncio.wait_for(app(scope, receive, send), timeout=STOPPED_WITHIN_S)

    asyncio.run(call())
    status: int = sent[0]["status"]
    headers = {k.decode().lower(): v.decode() for k, v in sent[0]["headers"]}
    return status, headers, json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def test_a_body_not_sent_in_time_is_408_and_writes_nothing(
    api: Api, settings: Settings, database: Database
) -> None:
    quick = replace(settings, body_timeout_seconds=0.05)
    status, headers, body = _call_with_body(quick, database, api.key, [b'{"last_name": "Do'])
    assert (status, body["error"]) == (408, "Request Timeout")
    assert list(body) == ["api_version", "error", "description"]
    assert headers["connection"] == "close"
    assert _constituent_count(api) == 0


@pytest.mark.sqlite_only
def test_a_trickling_client_gets_408_over_a_real_socket(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    account = accounts.create_account(database, "Slow client")
    key = accounts.create_key(database, account, read_only=False)
    timeout_s = 0.5
    environ = {"PHONEBOOK_BODY_TIMEOUT_SECONDS": str(timeout_s)}
    with serving(database_url, tmp_path, env=environ) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=STOPPED_WITHIN_S) as sock:
            head = (
                "POST /api/v1/constituents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
                "Content-Length: 100\r\n\r\n"
            )
            started = time.monotonic()
            sock.sendall(head.encode() + b'{"last_name": "Do')
            answer = _read_until_closed(sock)  # socket.timeout here: no answer came
            waited = time.monotonic() - started
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    head_bytes, _, body = rest.partition(b"\r\n\r\n")
    assert b"connection: close" in head_bytes.lower()
    assert json.loads(body)["error"] == "Request Timeout"
    assert waited >= timeout_s  # it waited for the body, then gave up
    with database.reading() as conn:
        assert conn.execute(text("SELECT count(*) FROM constituents")).scalar_one() == 0


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


# Statement time.


@pytest.mark.parametrize("path", ["reading", "writing", "fast reads"])
def test_a_runaway_statement_is_cancelled(database: Database, path: str) -> None:
    with database.reading() as conn:  # a pooled connection made before the limit was set
        conn.execute(text("SELECT 1"))
    database.limit_statements(STATEMENT_LIMIT_MS)
    started = time.monotonic()
    with pytest.raises(OperationalError) as raised:
        _run_away(database, path)
    assert time.monotonic() - started < STOPPED_WITHIN_S
    assert any(word in str(raised.value) for word in ("interrupted", "statement timeout"))
    with database.reading() as conn:  # and the database serves the next statement
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def _run_away(database: Database, path: str) -> None:
    backend = _backend(database)
    if path == "fast reads":
        database.fast.rows(RUNAWAY_SELECT[backend], {})
        return
    with getattr(database, path)() as conn:
        conn.execute(text(RUNAWAY[backend])).all()


def test_no_limit_lets_a_long_statement_finish(database: Database) -> None:
    old_limit_ms = 50
    database.limit_statements(old_limit_ms)
    with database.reading() as conn:  # pooled with the limit set
        conn.execute(text("SELECT 1"))
    database.limit_statements(0)
    started = time.monotonic()
    with database.reading() as conn:
        conn.execute(text(SLOWISH[_backend(database)])).all()
    assert time.monotonic() - started > old_limit_ms / 1000  # it ran past the old limit


def test_a_runaway_read_answers_503_with_retry_after(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def runaway(*_args: object) -> None:
        with database.reading() as conn:
            conn.execute(text(RUNAWAY[_backend(database)])).all()

    monkeypatch.setattr(phone_number_service, "get", runaway)
    response = api.get("/api/v1/phone_numbers/1")
    assert_error_shape(response, 503)
    assert response.headers["Retry-After"] == "1"


def test_a_runaway_write_answers_503_and_writes_nothing(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    number_path = f"/api/v1/phone_numbers/{api.number(api.constituent())['id']}"
    _make_scratch(database)

    def runaway(*_args: object) -> None:
        with database.writing() as conn:
            conn.execute(text("INSERT INTO scratch VALUES (1)"))
            conn.execute(text(RUNAWAY[_backend(database)])).all()

    monkeypatch.setattr(phone_number_service, "update", runaway)
    response = api.patch(number_path, {"not_current": True})
    assert_error_shape(response, 503)
    assert response.headers["Retry-After"] == "1"
    assert _scratch(database) == []


def _make_scratch(database: Database) -> None:
    with database.writing() as conn:
        conn.execute(text("CREATE TABLE scratch (x INTEGER)"))


def _scratch(database: Database) -> list[int]:
    with database.reading() as conn:
        return list(conn.execute(text("SELECT x FROM scratch ORDER BY x")).scalars())


def _group_commit(database: Database, statements: list[str], outcomes: list[str]) -> None:
    """Each statement a use case of one group commit, as the write lane runs them."""
    with database.group_commit():
        for sql in statements:
            try:
                with database.writing() as conn:
                    conn.execute(text(sql))
                outcomes.append("ok")
            except OperationalError as exc:
                outcomes.append(str(exc.orig))


@pytest.mark.sqlite_only
def test_an_interrupted_write_fails_its_whole_group_commit(database: Database) -> None:
    """SQLite rolls back the whole transaction when a write is interrupted, so every
    use case of the group must fail: none may be acknowledged, none may autocommit."""
    _make_scratch(database)
    database.limit_statements(STATEMENT_LIMIT_MS)
    group = ["INSERT INTO scratch VALUES (1)", RUNAWAY_INSERT, "INSERT INTO scratch VALUES (3)"]
    outcomes: list[str] = []
    with pytest.raises(OperationalError, match="rolled back the group's writes"):
        _group_commit(database, group, outcomes)
    assert outcomes[0] == "ok"  # done, but lost with the group: the commit must fail
    assert outcomes[1] != "ok"
    assert "rolled back the group's writes" in outcomes[2]  # refused, not autocommitted
    assert _scratch(database) == []
    outcomes.clear()
    _group_commit(database, ["INSERT INTO scratch VALUES (4)"], outcomes)  # afresh
    assert (outcomes, _scratch(database)) == (["ok"], [4])
