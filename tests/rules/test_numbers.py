"""phonebook.rules.numbers: normalisation and what a number may be (CONTRACT §2, §4)."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from phonebook.rules.fields import FieldError
from phonebook.rules.numbers import (
    MAX_NUMBER_LENGTH,
    check_number_for_type,
    clean_number,
    normalize,
)

TYPE_CODES = ("home", "work", "mobile", "other", "fax", "skype", "assistant", "pager")
ASCII_DIGITS = frozenset(string.digits)

ascii_text = st.text(alphabet=st.characters(max_codepoint=127))
# Unicode decimal digits (category Nd): fullwidth, Arabic-Indic, Devanagari, ...
decimal_digits = st.characters(categories=["Nd"])
# Anything but the "other number" category (superscripts, circled digits, ...),
# whose status as a digit the contract leaves open.
unicode_text = st.text(alphabet=st.characters(exclude_categories=["No", "Cs"]))
# Characters a stored number may hold: no control characters, no surrogates.
number_chars = st.characters(exclude_categories=["Cc", "Cs"])
padding = st.text(alphabet=st.sampled_from(" \t\n\r\u00a0\u3000"), max_size=5)


def _ascii_digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch in ASCII_DIGITS)


# --- normalize ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("(888) 555-0044", "8885550044"),
        ("+44 20 7946 0958", "442079460958"),
        ("222-555-1212", "2225551212"),
        ("no digits here", None),
        ("", None),
    ],
)
def test_normalize_contract_examples(number: str, expected: str | None) -> None:
    assert normalize(number) == expected


@given(ascii_text)
@example("(888) 555-0044")
@example("a1b2c3")
def test_normalize_ascii_is_its_digits_in_order(text: str) -> None:
    digits = _ascii_digits_of(text)
    assert normalize(text) == (digits or None)


@given(ascii_text)
def test_normalize_is_none_exactly_when_there_is_no_digit(text: str) -> None:
    has_digit = any(ch in ASCII_DIGITS for ch in text)
    assert (normalize(text) is None) == (not has_digit)


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    if once is not None:
        assert normalize(once) == once


@given(st.text())
def test_normalize_yields_only_ascii_digits(text: str) -> None:
    result = normalize(text)
    assert result is None or (result != "" and set(result) <= ASCII_DIGITS)


@given(decimal_digits)
@example("\uff14")  # FULLWIDTH DIGIT FOUR
@example("\u0667")  # ARABIC-INDIC DIGIT SEVEN
@example("\u06f9")  # EXTENDED ARABIC-INDIC DIGIT NINE
def test_normalize_maps_a_unicode_decimal_digit_to_its_ascii_value(digit: str) -> None:
    assert normalize(digit) == str(unicodedata.decimal(digit))


@given(unicode_text)
@example("\uff08\uff18\uff18\uff18\uff09\u0665\u0665\u0665")  # fullwidth and Arabic-Indic
def test_normalize_unicode_text_is_its_decimal_digits_in_order(text: str) -> None:
    expected = "".join(str(unicodedata.decimal(ch)) for ch in text if ch.isdecimal())
    assert normalize(text) == (expected or None)


def test_normalize_treats_fullwidth_like_ascii() -> None:
    assert normalize("\uff0b\uff14\uff14 20") == normalize("+44 20") == "4420"


# --- clean_number ------------------------------------------------------------


@given(
    core=st.text(alphabet=number_chars, min_size=1, max_size=MAX_NUMBER_LENGTH).filter(
        lambda t: t == t.strip() and t != ""
    ),
    before=padding,
    after=padding,
)
def test_clean_number_trims_and_keeps_the_rest(core: str, before: str, after: str) -> None:
    assert clean_number(before + core + after) == core


@given(st.text(alphabet=number_chars, min_size=MAX_NUMBER_LENGTH + 1, max_size=200))
def test_clean_number_rejects_more_than_64_characters(text: str) -> None:
    assume(len(text.strip()) > MAX_NUMBER_LENGTH)
    with pytest.raises(FieldError):
        clean_number(text)


def test_clean_number_length_boundary() -> None:
    assert clean_number("5" * MAX_NUMBER_LENGTH) == "5" * MAX_NUMBER_LENGTH
    # Padding does not count: the trimmed value is measured.
    assert clean_number(" " + "5" * MAX_NUMBER_LENGTH + " ") == "5" * MAX_NUMBER_LENGTH
    with pytest.raises(FieldError):
        clean_number("5" * (MAX_NUMBER_LENGTH + 1))


@given(padding)
@example("")
def test_clean_number_rejects_blank(blank: str) -> None:
    with pytest.raises(FieldError):
        clean_number(blank)


@given(
    head=st.text(alphabet=st.sampled_from("0123456789-"), min_size=1, max_size=10),
    control=st.characters(categories=["Cc"]),
    tail=st.text(alphabet=st.sampled_from("0123456789-"), min_size=1, max_size=10),
)
@example(head="555", control="\x00", tail="1212")
@example(head="555", control="\n", tail="1212")
@example(head="555", control="\x7f", tail="1212")
def test_clean_number_rejects_inner_control_characters(head: str, control: str, tail: str) -> None:
    with pytest.raises(FieldError):
        clean_number(head + control + tail)


@pytest.mark.parametrize(
    "value", [None, 5550100, 555.0, True, False, ["555"], {"number": "555"}, b"555"]
)
def test_clean_number_rejects_non_strings(value: object) -> None:
    with pytest.raises(FieldError):
        clean_number(value)


# --- check_number_for_type ---------------------------------------------------

no_digit_text = st.text(alphabet=st.characters(exclude_categories=["Nd", "No", "Cs"]), min_size=1)


@given(text=no_digit_text, code=st.sampled_from([c for c in TYPE_CODES if c != "skype"]))
@example(text="john.doe", code="home")
def test_a_number_without_digits_is_refused_except_for_skype(text: str, code: str) -> None:
    with pytest.raises(FieldError):
        check_number_for_type(text, code)


@given(no_digit_text)
@example("live:john.doe")
def test_a_skype_handle_needs_no_digit(text: str) -> None:
    check_number_for_type(text, "skype")


@given(
    text=st.text(alphabet=number_chars).map(lambda t: t + "7"),
    code=st.sampled_from(TYPE_CODES),
)
def test_a_number_with_a_digit_is_fine_for_every_type(text: str, code: str) -> None:
    check_number_for_type(text, code)
