"""phonebook.rules.fields and phonebook.rules.paging: lax parsing, body errors, pages.

CONTRACT §4 (lax forms, unknown and read-only keys) and §5 (limit and offset).
"""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from phonebook.errors import ApiError
from phonebook.rules.fields import (
    MAX_ID,
    BodyErrors,
    FieldError,
    has_control_characters,
    lax_bool,
    lax_int,
)
from phonebook.rules.paging import DEFAULT_LIMIT, Page, read_page
from phonebook.rules.phone_number_input import READ_ONLY, WRITABLE, read_phone_number

whitespace = st.text(alphabet=st.sampled_from(" \t\n\r\u00a0"), max_size=4)
# Python refuses str(int) beyond 4300 digits; stay well inside that.
integers = st.integers(min_value=-(10**100), max_value=10**100)
id_sized = st.integers(min_value=-MAX_ID, max_value=MAX_ID)
json_like_non_strings = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
)
# Text with no decimal digit at all can never spell an integer.
digitless_text = st.text(alphabet=st.characters(exclude_categories=["Nd", "Cs"]))
NOT_INTEGERS = ("", "  ", "1.5", "2.0", "1e3", "0x10", "1_000", "--1", "+-1", "1 2", "2a", "two")


# --- lax_int -----------------------------------------------------------------


@given(integers)
def test_lax_int_takes_any_int(value: int) -> None:
    assert lax_int(value) == value


@given(value=id_sized, before=whitespace, after=whitespace)
@example(value=2, before="", after="")
@example(value=-7, before=" ", after="\n")
def test_lax_int_parses_an_int_spelt_as_a_string(value: int, before: str, after: str) -> None:
    assert lax_int(f"{before}{value}{after}") == value


@given(value=st.integers(min_value=0, max_value=2**63 - 1), sign=st.sampled_from(["+", "-"]))
def test_lax_int_accepts_an_explicit_sign(value: int, sign: str) -> None:
    assert lax_int(f"{sign}{value}") == (value if sign == "+" else -value)


@pytest.mark.parametrize("value", [True, False])
def test_lax_int_refuses_booleans(value: bool) -> None:
    with pytest.raises(FieldError):
        lax_int(value)


@given(json_like_non_strings)
@example(2.0)
@example(None)
@example([2])
def test_lax_int_refuses_non_strings_that_are_not_ints(value: object) -> None:
    with pytest.raises(FieldError):
        lax_int(value)


@given(st.one_of(digitless_text, st.sampled_from(NOT_INTEGERS)))
def test_lax_int_refuses_non_numeric_strings(value: str) -> None:
    with pytest.raises(FieldError):
        lax_int(value)


@pytest.mark.parametrize("digits", [20, 5000])
def test_lax_int_refuses_digit_strings_too_long_for_an_id(digits: int) -> None:
    with pytest.raises(FieldError):
        lax_int("9" * digits)


# --- lax_bool ----------------------------------------------------------------


def _cased(word: str, mask: list[bool]) -> str:
    return "".join(ch.upper() if up else ch for ch, up in zip(word, mask, strict=False))


@given(st.booleans())
def test_lax_bool_takes_booleans(value: bool) -> None:
    assert lax_bool(value) is value


@given(
    word=st.sampled_from(["true", "false", "1", "0"]),
    mask=st.lists(st.booleans(), min_size=5, max_size=5),
)
@example(word="true", mask=[True] * 5)
@example(word="false", mask=[True, False, True, False, True])
def test_lax_bool_takes_lgl_spellings_in_any_case(word: str, mask: list[bool]) -> None:
    assert lax_bool(_cased(word, mask)) is (word in ("true", "1"))


@pytest.mark.parametrize(("value", "expected"), [(1, True), (0, False)])
def test_lax_bool_takes_one_and_zero(value: int, expected: bool) -> None:
    assert lax_bool(value) is expected


@given(
    st.one_of(
        st.integers().filter(lambda i: i not in (0, 1)),
        json_like_non_strings,
        st.text().filter(lambda t: t.strip().lower() not in ("true", "false", "1", "0")),
    )
)
@example(1.0)
@example(0.0)
@example(2)
@example(-1)
@example("yes")
@example("t")
@example("on")
@example("")
@example(None)
def test_lax_bool_refuses_everything_else(value: object) -> None:
    with pytest.raises(FieldError):
        lax_bool(value)


# --- BodyErrors --------------------------------------------------------------

key_names = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)


@given(
    writable=st.lists(st.sampled_from(WRITABLE), unique=True),
    read_only=st.lists(st.sampled_from(READ_ONLY), unique=True),
    unknown=st.lists(key_names.filter(lambda k: k not in WRITABLE + READ_ONLY), unique=True),
    prefix=st.sampled_from(["", "phone_numbers[3]."]),
)
def test_check_keys_names_exactly_the_unknown_keys(
    writable: list[str], read_only: list[str], unknown: list[str], prefix: str
) -> None:
    body = dict.fromkeys([*writable, *read_only, *unknown], 1)
    errors = BodyErrors()
    errors.check_keys(body, WRITABLE, READ_ONLY, prefix)
    assert set(errors.errors) == {prefix + key for key in unknown}
    if unknown:
        with pytest.raises(ApiError) as raised:
            errors.raise_if_any()
        assert raised.value.status == 422
        for key in unknown:
            assert key in raised.value.description
    else:
        errors.raise_if_any()


def test_read_only_keys_are_ignored_so_a_fetched_object_can_be_sent_back() -> None:
    fetched = {
        "api_version": "1.0",
        "id": 479746,
        "item_id": 959480,
        "item_type": "Constituent",
        "number": "222-555-1212",
        "phone_number_type_id": 1,
        "phone_type_name": "Home",
        "is_preferred": False,
        "not_current": False,
        "parent_id": None,
        "normalized_number": "2225551212",
        "created_at": "2025-06-03T17:08:54Z",
        "updated_at": "2025-06-03T17:08:54Z",
    }
    errors = BodyErrors()
    parsed = read_phone_number(fetched, errors)
    assert errors.errors == {}
    assert parsed.number == "222-555-1212"
    assert parsed.type_id == 1


def test_read_records_the_parse_error_under_the_key_and_returns_none() -> None:
    errors = BodyErrors()
    assert errors.read({"n": "x"}, "n", lax_int, prefix="p.") is None
    assert errors.read({}, "absent", lax_int) is None
    assert errors.read({"n": None}, "n", lax_int, null_is_absent=True) is None
    assert errors.read({"ok": "3"}, "ok", lax_int) == 3
    assert list(errors.errors) == ["p.n"]
    # A null is the wrong type unless the field allows it.
    assert errors.read({"m": None}, "m", lax_int) is None
    assert list(errors.errors) == ["p.n", "m"]


def test_every_problem_of_a_body_is_collected_into_one_422() -> None:
    body = {
        "number": "",
        "is_preferred": "maybe",
        "not_current": 2,
        "phone_number_type_id": "two",
        "colour": "green",
        "id": 5,
    }
    errors = BodyErrors()
    read_phone_number(body, errors)
    with pytest.raises(ApiError) as raised:
        errors.raise_if_any()
    error = raised.value
    assert error.status == 422
    assert error.errors is not None
    assert set(error.errors) == {
        "number",
        "is_preferred",
        "not_current",
        "phone_number_type_id",
        "colour",
    }
    assert all(messages and all(messages) for messages in error.errors.values())
    rendered = error.body()
    assert list(rendered) == ["api_version", "error", "description", "errors"]
    rendered_errors = rendered["errors"]
    assert isinstance(rendered_errors, dict)
    assert set(rendered_errors) == set(error.errors)


def test_no_errors_raise_nothing() -> None:
    errors = BodyErrors()
    read_phone_number({"number": "555", "is_preferred": "true"}, errors)
    errors.raise_if_any()
    assert errors.errors == {}


# --- has_control_characters --------------------------------------------------


@given(st.text(alphabet=st.characters(codec=None), max_size=20))
@example("555\x00")
@example("555\ud800")
@example("a\u2028b")  # a line separator: not printable, and not a control character
def test_control_characters_are_exactly_cc_and_cs(text: str) -> None:
    expected = any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)
    assert has_control_characters(text) == expected


# --- read_page ---------------------------------------------------------------


def _bad_page(query: dict[str, str], name: str) -> None:
    with pytest.raises(ApiError) as raised:
        read_page(query, 100)
    assert raised.value.status == 400
    assert raised.value.errors is not None
    assert name in raised.value.errors


def test_read_page_defaults() -> None:
    assert read_page({}, 100) == Page(limit=DEFAULT_LIMIT, offset=0)
    assert DEFAULT_LIMIT == 25


@given(
    limit=st.integers(min_value=1, max_value=MAX_ID),
    max_limit=st.integers(min_value=1, max_value=1000),
)
@example(limit=100, max_limit=100)
@example(limit=101, max_limit=100)
@example(limit=1, max_limit=100)
def test_read_page_clamps_limit_to_the_maximum(limit: int, max_limit: int) -> None:
    assert read_page({"limit": str(limit)}, max_limit).limit == min(limit, max_limit)


@given(st.integers(min_value=0, max_value=MAX_ID))
@example(0)
@example(MAX_ID)
def test_read_page_takes_any_non_negative_offset(offset: int) -> None:
    assert read_page({"offset": str(offset)}, 100) == Page(limit=DEFAULT_LIMIT, offset=offset)


@given(name=st.sampled_from(["limit", "offset"]), value=st.integers(max_value=-1))
def test_read_page_refuses_negative_values(name: str, value: int) -> None:
    _bad_page({name: str(value)}, name)


@given(
    name=st.sampled_from(["limit", "offset"]),
    value=st.one_of(digitless_text, st.sampled_from(NOT_INTEGERS)),
)
def test_read_page_refuses_non_integers(name: str, value: str) -> None:
    _bad_page({name: value}, name)


def test_read_page_refuses_limit_zero() -> None:
    _bad_page({"limit": "0"}, "limit")


@given(name=st.sampled_from(["limit", "offset"]), value=st.integers(min_value=MAX_ID + 1))
@example(name="limit", value=MAX_ID + 1)
@example(name="offset", value=10**40)
def test_read_page_refuses_values_too_large_to_store(name: str, value: int) -> None:
    assume(len(str(value)) < 4000)
    _bad_page({name: str(value)}, name)


@pytest.mark.parametrize("name", ["limit", "offset"])
def test_read_page_refuses_a_huge_digit_string(name: str) -> None:
    _bad_page({name: "1" * 5000}, name)
