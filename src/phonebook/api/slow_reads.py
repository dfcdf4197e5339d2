"""Reads that may take milliseconds: inline while they are quick, on threads once they are not.

The reverse lookup costs ~100 us at 10,000 numbers and ~3 ms at 3,000,000,
almost all of it inside SQLite, which releases the GIL. Inline, a 3 ms lookup
stalls every request of the process and the lookups queue behind each other;
on a thread they overlap and the event loop goes on. A thread hop costs
~40 us, though, which at 10,000 numbers measured 40% of lookup throughput. So
each account's lookups run inline until their moving average passes
OFFLOAD_ABOVE_SECONDS, then on a small pool of threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")

OFFLOAD_ABOVE_SECONDS: Final = 0.001
READ_THREADS: Final = 4  # more only queue on the cores
_WEIGHT: Final = 0.1  # of the newest duration in the moving average


class SlowReads:
    """Per-account moving averages of a read's cost, and the threads for costly ones."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._cost: dict[int, float] = {}
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, account_id: int, use_case: Callable[[], T]) -> T:
        def timed() -> T:
            started = self._clock()
            try:
                return use_case()
            finally:
                self._observe(account_id, self._clock() - started)

        if self._cost.get(account_id, 0.0) < OFFLOAD_ABOVE_SECONDS:
            return timed()
        if self._limiter is None:  # made on first use: it belongs to the running loop
            self._limiter = anyio.CapacityLimiter(READ_THREADS)
        return await anyio.to_thread.run_sync(timed, limiter=self._limiter)

    def offloads(self, account_id: int) -> bool:
        """Whether this account's reads now run on threads."""
        return self._cost.get(account_id, 0.0) >= OFFLOAD_ABOVE_SECONDS

    def _observe(self, account_id: int, seconds: float) -> None:
        # A race between two threads loses one sample at worst: harmless here.
        previous = self._cost.get(account_id, seconds)
        self._cost[account_id] = previous + (seconds - previous) * _WEIGHT
