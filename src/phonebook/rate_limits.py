"""Per-key request limits and throttling of failed authentication, counted by `limits`.

Counts live in this process by default; with PHONEBOOK_REDIS_URL they live in
Redis, shared by every process and host. A fixed window per key: one account
at its limit does not slow another, since each key has its own counter.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from phonebook.errors import ApiError
from phonebook.settings import Settings


def _limit(spec: str) -> RateLimitItem | None:
    return parse(spec) if spec.strip() else None


class RateLimits:
    """The two limits the API enforces before doing any work."""

    def __init__(self, settings: Settings) -> None:
        if settings.redis_url:
            # redis-py's asyncio client: the Redis driver already in the lock file.
            store = storage_from_string(f"async+{settings.redis_url}", implementation="redispy")
        else:
            store = storage_from_string("async+memory://")
        self._limiter = FixedWindowRateLimiter(store)
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
        if not await self._limiter.hit(self._per_key, *identifiers):
            raise await self._too_many(self._per_key, identifiers, "this API key")

    async def check_client(self, client: str) -> None:
        """429 for a client that has failed authentication too often in the window."""
        if self._auth_failures is None:
            return
        identifiers = (self._scope, "auth", client)
        if not await self._limiter.test(self._auth_failures, *identifiers):
            reason = "failed authentication from this client"
            raise await self._too_many(self._auth_failures, identifiers, reason)

    async def record_failure(self, client: str) -> None:
        if self._auth_failures is not None:
            await self._limiter.hit(self._auth_failures, self._scope, "auth", client)

    async def _too_many(
        self, item: RateLimitItem, identifiers: tuple[str, ...], what: str
    ) -> ApiError:
        stats = await self._limiter.get_window_stats(item, *identifiers)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        return ApiError(
            429,
            "Too Many Requests",
            f"Too many requests for {what}: the limit is {item}; retry after {retry_after} s.",
            headers={
                "Retry-After": str(retry_after),
                "RateLimit-Limit": str(item.amount),
                "RateLimit-Remaining": str(stats.remaining),
                "RateLimit-Reset": str(retry_after),
            },
        )
