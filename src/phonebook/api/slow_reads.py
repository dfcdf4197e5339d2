"""Reads that may take milliseconds: inline while they are quick, on threads once they are not.

The reverse lookup costs ~100 us at 10,000 numbers and ~3 ms at 3,000,000,
almost all of it inside SQLite, which releases the GIL. Inline, a 3 ms lookup
stalls every request of the process and the lookups queue behind each other;
on a thread they overlap and the event loop goes on. A thread hop costs
~40 us, though, which at 10,000 numbers measured 40% of lookup throughput. So
each kind of read, per account, runs inline while its moving average stays
under OFFLOAD_ABOVE_SECONDS, and on a thread otherwise (also before it has
been timed at all: an unknown read is treated as slow).

The threads are this module's own and live as long as the app: each keeps the
database connection it reads on (store.fast_reads), so short-lived threads
would leave connections checked out behind them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

T = TypeVar("T")

OFFLOAD_ABOVE_SECONDS: Final = 0.001
_WEIGHT: Final = 0.1  # of the newest duration in the moving average


class SlowReads:
    """Moving averages of each kind of read's cost, and the threads for costly ones."""

    def __init__(self, threads: int, clock: Callable[[], float] = time.perf_counter) -> None:
        self._clock = clock
        self._cost: dict[Hashable, float] = {}
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="phonebook-read")

    async def run(self, kind: Hashable, use_case: Callable[[], T]) -> T:
        """use_case(), timed under kind (e.g. (account id, "phone lookup"))."""

        def timed() -> T:
            started = self._clock()
            try:
                return use_case()
            finally:
                self._observe(kind, self._clock() - started)

        if self._cost.get(kind, OFFLOAD_ABOVE_SECONDS) < OFFLOAD_ABOVE_SECONDS:
            return timed()
        return await asyncio.get_running_loop().run_in_executor(self._pool, timed)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _observe(self, kind: Hashable, seconds: float) -> None:
        # A race between two threads loses one sample at worst: harmless here.
        previous = self._cost.get(kind, seconds)
        self._cost[kind] = previous + (seconds - previous) * _WEIGHT
