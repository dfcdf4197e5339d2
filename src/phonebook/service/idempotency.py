"""Idempotency-Key on POST (CONTRACT §8): a retried request is answered, not redone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from phonebook.clock import utc_now
from phonebook.errors import unprocessable
from phonebook.service.context import Caller, ServiceContext
from phonebook.service.retry import retried
from phonebook.store import idempotency as store

WINDOW: Final = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str
    replayed: bool


@retried
def answer_once(
    ctx: ServiceContext,
    caller: Caller,
    key: str,
    request_hash: str,
    attempt: Callable[[], tuple[int, str]],
) -> Answer:
    """The first answer to (account, key), or that answer again for the same request.

    attempt() runs the use case and renders its answer, errors included; the
    answer is stored in the same transaction as the use case's writes, so a
    crash can lose both but never one of them. Two processes racing on one key
    collide on the unique index; the loser is rolled back whole and retried,
    and then replays the winner's answer. The same key with another request
    (another body, path or query) within 24 hours: 422.
    """
    database, account = ctx.database, caller.account_id
    with database.group_commit():
        with database.writing() as conn:
            stored = store.find(conn, account, key)
        now = utc_now()
        if stored is not None and stored.created_at > now - WINDOW:
            if stored.request_hash != request_hash:
                raise unprocessable(
                    "This Idempotency-Key was used with a different request; use a new key.",
                    {"Idempotency-Key": ["was used with a different request"]},
                )
            return Answer(stored.status_code, stored.response_body, replayed=True)
        status, body = attempt()
        with database.writing() as conn:
            if stored is not None:
                store.forget(conn, stored.id)
            store.remember(conn, account, key, request_hash, status, body, now)
    return Answer(status, body, replayed=False)
