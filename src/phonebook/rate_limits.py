"""Per-key request limits and throttling of failed authentication.

Counts live in this process by default; with PHONEBOOK_REDIS_URL they live in
Redis (counted by `limits`), shared by every process and host. A fixed window
per key: one account at its limit does not slow another, since each key has
its own counter.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Protocol

from limits import RateLimitItem, parse
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from phonebook.errors import ApiError
from phonebook.settings import Settings


class _Counter(Protocol):
    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool: ...
    async def test(self, item: RateLimitItem, *identifiers: str) -> bool: ...
    async def window(self, item: RateLimitItem, *identifiers: str) -> tuple[float, int]: ...


class _SharedCounter:
    """Fixed windows in Redis, through `limits`."""

    def __init__(self, redis_url: str) -> None:
        # redis-py's asyncio client: the Redis driver already in the lock file.
        store = storage_from_string(f"async+{redis_url}", implementation="redispy")
        self._limiter = FixedWindowRateLimiter(store)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return await self._limiter.hit(item, *identifiers)

    async def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        return await self._limiter.test(item, *identifiers)

    async def window(self, item: RateLimitItem, *identifiers: str) -> tuple[float, int]:
        stats = await self._limiter.get_window_stats(item, *identifiers)
        return stats.reset_time, stats.remaining


# Beyond this many windows, expired ones are dropped (keys and failing clients gone quiet).
_PRUNE_ABOVE = 10_000


class LocalCounter:
    """Fixed windows in this process's memory, as `limits`' memory storage counts them.

    A departure from the library, for the hot path: every request hits the
    per-key limit, and `limits`' async storage layer cost 5.5 us of a 37 us
    GET in-process (bench/profile_request.py --rate-limit '' against the
    default), where this dictionary costs about 1 us. A window opens at a key's
    first hit and lasts the limit's period.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._windows: dict[tuple[str, ...], list[float]] = {}  # ids -> [expires_at, count]
        self._pruned_at = 0.0

    def _live(self, identifiers: tuple[str, ...], now: float) -> list[float] | None:
        # The identifiers name the limit too ("key" or "auth"): one limit per name.
        window = self._windows.get(identifiers)
        return window if window is not None and window[0] > now else None

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        now = self._clock()
        window = self._live(identifiers, now)
        if window is None:
            self._prune(now)
            window = self._windows[identifiers] = [now + item.get_expiry(), 0]
        if window[1] >= item.amount:
            return False
        window[1] += 1
        return True

    async def test(self, item: RateLimitItem, *identifiers: str) -> bool:
        window = self._live(identifiers, self._clock())
        return window is None or window[1] < item.amount

    async def window(self, item: RateLimitItem, *identifiers: str) -> tuple[float, int]:
        now = self._clock()
        window = self._live(identifiers, now)
        if window is None:
            return now + item.get_expiry(), item.amount
        return window[0], max(0, item.amount - int(window[1]))

    def _prune(self, now: float) -> None:
        """Drop expired windows once there are many, at most once a second (O(n))."""
        if len(self._windows) >= _PRUNE_ABOVE and now - self._pruned_at >= 1.0:
            self._pruned_at = now
            self._windows = {k: w for k, w in self._windows.items() if w[0] > now}


def _limit(spec: str) -> RateLimitItem | None:
    return parse(spec) if spec.strip() else None


class RateLimits:
    """The two limits the API enforces before doing any work."""

    def __init__(self, settings: Settings) -> None:
        self._counter: _Counter = (
            _SharedCounter(settings.redis_url) if settings.redis_url else LocalCounter()
        )
        self._per_key = _limit(settings.rate_limit)
        self._auth_failures = _limit(settings.auth_failure_limit)
        # Key ids restart at 1 in every database: deployments sharing one Redis
        # must not share counters.
        self._scope = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]

    async def check_key(self, key_id: int) -> None:
        """429 once this key has made its allowance of requests in the window."""
        if self._per_key is None:
            return
        identifiers = (self._scope, "key", str(key_id))
        if not await self._counter.hit(self._per_key, *identifiers):
            raise await self._too_many(self._per_key, identifiers, "this API key")

    async def check_client(self, client: str) -> None:
        """429 for a client that has failed authentication too often in the window."""
        if self._auth_failures is None:
            return
        identifiers = (self._scope, "auth", client)
        if not await self._counter.test(self._auth_failures, *identifiers):
            reason = "failed authentication from this client"
            raise await self._too_many(self._auth_failures, identifiers, reason)

    async def record_failure(self, client: str) -> None:
        if self._auth_failures is not None:
            await self._counter.hit(self._auth_failures, self._scope, "auth", client)

    async def _too_many(
        self, item: RateLimitItem, identifiers: tuple[str, ...], what: str
    ) -> ApiError:
        reset_time, remaining = await self._counter.window(item, *identifiers)
        retry_after = max(1, math.ceil(reset_time - time.time()))
        return ApiError(
            429,
            "Too Many Requests",
            f"Too many requests for {what}: the limit is {item}; retry after {retry_after} s.",
            headers={
                "Retry-After": str(retry_after),
                "RateLimit-Limit": str(item.amount),
                "RateLimit-Remaining": str(remaining),
                "RateLimit-Reset": str(retry_after),
            },
        )
