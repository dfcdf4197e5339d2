"""Costly reads move off the event loop per account; cheap ones stay inline."""

from __future__ import annotations

import asyncio
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


def _threads_used(reads: SlowReads, account_id: int, count: int) -> list[bool]:
    """For each of count reads, whether it ran off the event loop's thread."""

    async def main() -> list[bool]:
        loop_thread = threading.get_ident()
        return [
            await reads.run(account_id, lambda: threading.get_ident() != loop_thread)
            for _ in range(count)
        ]

    return asyncio.run(main())


def test_cheap_reads_stay_on_the_event_loop(clock: FakeClock) -> None:
    clock.duration = OFFLOAD_ABOVE_SECONDS / 10
    reads = SlowReads(clock)
    assert _threads_used(reads, 1, 50) == [False] * 50
    assert not reads.offloads(1)


def test_costly_reads_move_to_threads_and_back(clock: FakeClock) -> None:
    reads = SlowReads(clock)
    clock.duration = OFFLOAD_ABOVE_SECONDS * 5
    used = _threads_used(reads, 1, 5)
    assert used[0] is False  # the first read has no history yet
    assert used[-1] is True
    assert reads.offloads(1)
    clock.duration = OFFLOAD_ABOVE_SECONDS / 100
    assert _threads_used(reads, 1, 60)[-1] is False  # the average came down again


def test_one_accounts_costly_reads_leave_anothers_inline(clock: FakeClock) -> None:
    reads = SlowReads(clock)
    clock.duration = OFFLOAD_ABOVE_SECONDS * 5
    _threads_used(reads, 1, 5)
    clock.duration = OFFLOAD_ABOVE_SECONDS / 10
    assert _threads_used(reads, 2, 3) == [False] * 3
    assert reads.offloads(1)
    assert not reads.offloads(2)


def test_a_failing_read_raises_and_still_counts(clock: FakeClock) -> None:
    reads = SlowReads(clock)
    clock.duration = OFFLOAD_ABOVE_SECONDS * 5

    def broken() -> None:
        raise LookupError("boom")

    async def main() -> None:
        for _ in range(3):
            with pytest.raises(LookupError):
                await reads.run(7, broken)

    asyncio.run(main())
    assert reads.offloads(7)


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
    inline = api.get("/api/v1/constituents/search", params=params)
    monkeypatch.setattr(slow_reads, "OFFLOAD_ABOVE_SECONDS", -1.0)  # every read offloaded
    offloaded = api.get("/api/v1/constituents/search", params=params)
    assert offloaded.status_code == inline.status_code == 200
    assert offloaded.json() == inline.json()
    assert [c["id"] for c in offloaded.json()["items"]] == [cid]
    assert len(threads) == 2
    assert threads[0] != threads[1], "the second lookup ran where the first did"
