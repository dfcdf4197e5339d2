"""Running a write use case again when the database says a retry may succeed."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from typing import Final, ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError

from phonebook.store.database import is_retryable

P = ParamSpec("P")
R = TypeVar("R")

ATTEMPTS: Final = 4


def retried(use_case: Callable[P, R]) -> Callable[P, R]:
    """Re-run use_case (its whole transaction) on a serialization failure or deadlock.

    Each attempt opens a fresh transaction, so nothing half-done survives a
    failed one. After the last attempt the error propagates: the app answers
    409 (constraint) or 503 (busy), never 500. The short jittered pause blocks
    this worker's event loop, as the database call itself does.
    """

    @functools.wraps(use_case)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, ATTEMPTS):
            try:
                return use_case(*args, **kwargs)
            except DBAPIError as exc:
                if not is_retryable(exc):
                    raise
            time.sleep(random.uniform(0, 0.002 * 2**attempt))  # noqa: S311 - jitter, not secrets
        return use_case(*args, **kwargs)

    return run
