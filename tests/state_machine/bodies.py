"""Hypothesis strategies for the request bodies of tests/test_state_machine.py."""

from __future__ import annotations

from typing import Any, Final

from hypothesis import strategies as st

from tests.state_machine.model import SKYPE, TYPES, Body

DIGITS: Final = "0123456789\uff10\uff15\u0663"  # ASCII, fullwidth and Arabic-Indic digits
PUNCTUATION: Final = " ()+-.x"
HANDLE: Final = "abcxyzXYZ._"


def _concat(head: str, digit: str, tail: str) -> str:
    return head + digit + tail


def _merge(*parts: Body) -> Body:
    merged: Body = {}
    for part in parts:
        merged.update(part)
    return merged


def mostly(
    usual: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], one_in: int = 5
) -> st.SearchStrategy[Any]:
    """usual, except about once in one_in draws, rare (st.one_of would weigh them alike)."""
    return st.integers(0, one_in - 1).flatmap(lambda k: rare if k == one_in - 1 else usual)


def _spelled(name: str, style: str) -> str:
    return {"lower": name.lower(), "upper": name.upper()}.get(style, name)


def _both(type_id: int) -> st.SearchStrategy[Body]:
    name = TYPES[type_id]
    return st.fixed_dictionaries(
        {
            "phone_number_type_id": st.sampled_from([type_id, str(type_id)]),
            "phone_type_name": st.sampled_from([name, name.lower()]),
        }
    )


# Valid parts: a body made of them alone is accepted (a handle only with Skype).
numbers_with_digit = st.builds(
    _concat,
    st.text(DIGITS + PUNCTUATION, max_size=14),
    st.sampled_from(DIGITS),
    st.text(DIGITS + PUNCTUATION, max_size=14),
)
handles = st.builds(
    _concat, st.text(HANDLE + " ", max_size=6), st.sampled_from(HANDLE), st.just("")
)
type_ids = st.integers(1, 8)
type_names = st.builds(
    _spelled, st.sampled_from(list(TYPES.values())), st.sampled_from(["lower", "upper", "as is"])
)
valid_type_parts: st.SearchStrategy[Body] = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"phone_number_type_id": st.one_of(type_ids, type_ids.map(str))}),
    st.fixed_dictionaries({"phone_type_name": type_names}),
    type_ids.flatmap(_both),
    # null means "not given" for either type field
    st.fixed_dictionaries({"phone_number_type_id": st.none(), "phone_type_name": type_names}),
)
valid_flags = st.sampled_from([True, False, "true", "false", "1", "0", "TRUE", "False", 1, 0])
valid_flag_parts: st.SearchStrategy[Body] = st.fixed_dictionaries(
    {}, optional={"is_preferred": valid_flags, "not_current": valid_flags}
)
# Read-only keys a client may send back are ignored.
read_only_parts: st.SearchStrategy[Body] = mostly(
    st.just({}),
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.just(1),
            "item_id": st.just(1),
            "item_type": st.just("Other"),
            "normalized_number": st.just("99"),
            "parent_id": st.just(7),
            "created_at": st.just("2001-01-01T00:00:00Z"),
            "updated_at": st.just("nonsense"),
            "api_version": st.just("9.9"),
        },
    ),
)
skype_parts: st.SearchStrategy[Body] = st.fixed_dictionaries(
    {"number": handles, "phone_number_type_id": st.sampled_from([SKYPE, str(SKYPE)])}
)
valid_create_bodies: st.SearchStrategy[Body] = st.builds(
    _merge,
    mostly(
        st.builds(_merge, st.fixed_dictionaries({"number": numbers_with_digit}), valid_type_parts),
        skype_parts,
    ),
    valid_flag_parts,
    read_only_parts,
)
valid_patch_bodies: st.SearchStrategy[Body] = st.builds(
    _merge,
    st.fixed_dictionaries({}, optional={"number": numbers_with_digit}),
    valid_type_parts,
    valid_flag_parts,
    read_only_parts,
)

# Anything goes: each part may be invalid, so a body may be rejected (422) for any of
# several reasons, or for none (a handle on a Skype number; a type matching the name).
any_numbers = st.one_of(
    numbers_with_digit,
    handles,
    st.sampled_from(["", "   ", "5" * 65, "1\x00", 5550100]),
)
any_type_ids = st.one_of(type_ids, st.sampled_from([0, 9, "9", "-1", "x", 2.5, True]))
any_type_names = st.one_of(type_names, st.sampled_from(["Cell", "Home phone"]))
any_flags = st.one_of(valid_flags, st.sampled_from(["yes", 2, None, "on"]))
any_parts: st.SearchStrategy[Body] = st.fixed_dictionaries(
    {},
    optional={
        "number": any_numbers,
        "phone_number_type_id": any_type_ids,
        "phone_type_name": any_type_names,
        "is_preferred": any_flags,
        "not_current": any_flags,
        "colour": st.just("red"),
    },
)
create_bodies = mostly(valid_create_bodies, any_parts, one_in=6)
patch_bodies = mostly(valid_patch_bodies, st.builds(_merge, valid_patch_bodies, any_parts), 6)
accounts = st.sampled_from([0, 1])
