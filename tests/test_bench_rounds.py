"""How a bench row is settled from several rounds (bench/rounds.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.rounds import Row, settle


def run(app: str, rps: float, *, p99: float = 1.0, valid: bool = True) -> Row:
    return Row(
        size=10_000,
        scenario="show",
        connections=16,
        app=app,
        requests_per_s=rps,
        p50_ms=0.5,
        p99_ms=p99,
        requests=int(rps * 5),
        non_2xx=0 if valid else 1,
        socket_errors=0,
        valid=valid,
        cpu_us_per_request=70.0,
    )


def test_a_row_is_its_median_round_whole() -> None:
    settled = settle(
        [
            (run("floor", 40_000), run("phonebook", 18_000, p99=9.0)),
            (run("floor", 50_000), run("phonebook", 12_000, p99=30.0)),
            (run("floor", 45_000), run("phonebook", 15_000, p99=5.0)),
        ]
    )
    pb = settled.phonebook
    # The p99 comes from the same run as the requests/s, not from another round.
    assert (pb.requests_per_s, pb.p99_ms) == (15_000, 5.0)
    assert (*settled.phonebook_range, settled.rounds) == (12_000, 18_000, 3)
    assert settled.floor.requests_per_s == 45_000


def test_the_ratio_is_the_median_of_each_rounds_own_ratio() -> None:
    # Each round's floor and Phonebook ran moments apart; a fast floor in one
    # round and a fast Phonebook in another must not be paired.
    settled = settle(
        [
            (run("floor", 40_000), run("phonebook", 20_000)),  # 50%
            (run("floor", 50_000), run("phonebook", 10_000)),  # 20%
            (run("floor", 60_000), run("phonebook", 15_000)),  # 25%
        ]
    )
    # The medians of each app (50,000 and 15,000) would give 30%.
    assert settled.ratio == pytest.approx(0.25)
    assert (min(settled.ratios), max(settled.ratios)) == pytest.approx((0.20, 0.50))


def test_one_invalid_round_invalidates_the_row() -> None:
    settled = settle(
        [
            (run("floor", 40_000), run("phonebook", 15_000)),
            (run("floor", 40_000), run("phonebook", 99_000, valid=False)),
            (run("floor", 40_000), run("phonebook", 16_000)),
        ]
    )
    assert settled.phonebook.requests_per_s == 16_000
    assert not settled.phonebook.valid
    assert settled.floor.valid


def test_no_rounds_is_an_error() -> None:
    with pytest.raises(ValueError, match="no rounds"):
        settle([])


@given(st.lists(st.floats(min_value=1, max_value=1e6), min_size=1, max_size=9))
def test_the_reported_run_is_one_of_the_rounds_and_none_beats_it_on_both_sides(
    rates: list[float],
) -> None:
    settled = settle([(run("floor", 50_000), run("phonebook", r)) for r in rates])
    chosen = settled.phonebook.requests_per_s
    assert chosen in rates
    assert sum(r < chosen for r in rates) <= len(rates) // 2
    assert sum(r > chosen for r in rates) <= len(rates) // 2
