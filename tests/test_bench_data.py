"""The bench's own data rules (bench/dataset.py, bench/wrk.py): what its rows measure.

The benchmark itself runs by `make bench`, never here; these hold the choices
that decide what its rows compare.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bench.dataset import lookup_term, split_numbers
from bench.wrk import lua_script

ids = st.integers(min_value=1, max_value=10**9)


@given(ids, st.integers(min_value=1, max_value=10**7))
def test_updates_never_reach_the_numbers_lookup_terms_come_from(low: int, count: int) -> None:
    high = low + count  # two numbers at least
    (searched_low, searched_high), (updated_low, updated_high) = split_numbers((low, high))
    assert low == searched_low <= searched_high < updated_low <= updated_high == high
    assert updated_low == searched_high + 1  # together they are every number


def test_the_scripts_update_only_the_updated_numbers(tmp_path: Path) -> None:
    searched, updated = split_numbers((1, 10_000))
    data = {
        "key": "k",
        "list_key": "l",
        "constituents": (1, 3_333),
        "numbers": (1, 10_000),
        "searched_numbers": searched,
        "updated_numbers": updated,
        "list_constituents": (3_334, 3_533),
    }
    script = lua_script(tmp_path / "update.lua", "update", data, ["1234567"]).read_text()
    assert "local umin, umax = 5001, 10000" in script
    update = re.search(r"local function update\(\)(.*?)\nend", script, re.S)
    assert update is not None
    assert "math.random(umin, umax)" in update.group(1)
    assert "nmin" not in update.group(1)


@given(st.from_regex(r"[0-9]{9,15}", fullmatch=True))
def test_a_lookup_term_is_the_local_part_of_a_number(digits: str) -> None:
    """The last seven digits: the middle ones, area code and exchange, match
    dozens of numbers at 3M and one at 10k, so the two sizes' rows would differ."""
    term = lookup_term(digits)
    assert term is not None
    assert len(term) == 7
    assert digits.endswith(term)


@given(st.one_of(st.none(), st.from_regex(r"[0-9]{0,8}", fullmatch=True)))
def test_a_short_number_gives_no_term(digits: str | None) -> None:
    assert lookup_term(digits) is None
