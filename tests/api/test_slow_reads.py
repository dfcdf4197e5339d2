"""Costly reads move off the event loop per account; cheap ones stay inline."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest

from phonebook.api import slow_reads
from phonebook.api.slow_reads import OFFLOAD_ABOVE_SECONDS, SlowReads
from phonebook.service import constituents
from tests.conftest import Api


class FakeClock:
    """A clock for SlowReads: each read lasts what the test says."""

    def __init__(self) -> None:
        self.now = 0.0
        self.duration = 0.0
        self._started = False

    def __call__(self) -> float:
        # Called once before and once after each read: the second call moves time on.
        if self._started:
            self.now += self.duration
        self._started = not self._started
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _threads_used(reads: SlowReads, kind: object, count: int) -> list[bool]:
    """For each of count reads, whether it ran off the event loop's thread."""

    async def main() -> list[bool]:
        loop_thread = threading.get_ident()
        return [
            await reads.run(kind, lambda: threading.get_ident() != loop_thread)
            for _ in range(count)
        ]

    return asyncio.run(main())


def test_an_untimed_read_is_offloaded_then_cheap_ones_stay_inline(clock: FakeClock) -> None:
    clock.duration = OFFLOAD_ABOVE_SECONDS / 10
    reads = SlowReads(2, clock)
    assert _threads_used(reads, 1, 50) == [True] + [False] * 49


def test_costly_reads_stay_on_threads_until_the_average_falls(clock: FakeClock) -> None:
    reads = SlowReads(2, clock)
    clock.duration = OFFLOAD_ABOVE_SECONDS * 5
    assert _threads_used(reads, 1, 5) == [True] * 5
    clock.duration = OFFLOAD_ABOVE_SECONDS / 100
    assert _threads_used(reads, 1, 60)[-1] is False  # the average came down again


def test_each_kind_keeps_its_own_average(clock: FakeClock) -> None:
    reads = SlowReads(2, clock)
    clock.duration = OFFLOAD_ABOVE_SECONDS * 5
    _threads_used(reads, (1, "costly"), 5)
    clock.duration = OFFLOAD_ABOVE_SECONDS / 10
    assert _threads_used(reads, (2, "cheap"), 3) == [True, False, False]
    assert _threads_used(reads, (1, "costly"), 1) == [True]


def test_a_failing_read_raises_and_still_counts(clock: FakeClock) -> None:
    reads = SlowReads(2, clock)
    clock.duration = OFFLOAD_ABOVE_SECONDS / 10

    def broken() -> None:
        raise LookupError("boom")

    async def main() -> None:
        for _ in range(3):
            with pytest.raises(LookupError):
                await reads.run(7, broken)

    asyncio.run(main())
    assert _threads_used(reads, 7, 1) == [False]  # timed as cheap despite failing


def test_reads_run_on_at_most_the_threads_given() -> None:
    """Each thread holds a database connection: their number must stay bounded."""
    reads = SlowReads(2)
    seen: set[int] = set()
    gate = threading.Barrier(2, timeout=5)

    def read() -> None:
        seen.add(threading.get_ident())
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()  # two at once: both threads are used

    async def main() -> None:
        await asyncio.gather(*(reads.run(("many", i), read) for i in range(20)))

    asyncio.run(main())
    reads.close()
    assert len(seen) == 2


def test_an_offloaded_lookup_answers_as_an_inline_one(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the app, on both backends: the thread's own connection sees the same data."""
    threads: list[int] = []
    original = constituents.page

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(constituents, "page", recording)
    cid = api.constituent()
    api.number(cid, number="(888) 555-0044")
    params = {"q[]": "phone_number=5550044", "expand": "phone_numbers"}
    offloaded = api.get("/api/v1/constituents/search", params=params)  # untimed: a thread
    monkeypatch.setattr(slow_reads, "OFFLOAD_ABOVE_SECONDS", 1e9)  # every read inline
    inline = api.get("/api/v1/constituents/search", params=params)
    assert offloaded.status_code == inline.status_code == 200
    assert offloaded.json() == inline.json()
    assert [c["id"] for c in offloaded.json()["items"]] == [cid]
    assert len(threads) == 2
    assert threads[0] != threads[1], "the inline lookup ran where the offloaded one did"
