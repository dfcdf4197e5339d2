"""The bench's own data rules (bench/dataset.py, bench/wrk.py): what its rows measure.

The benchmark itself runs by `make bench`, never here; these hold the choices
that decide what its rows compare.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bench.dataset import split_numbers
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
