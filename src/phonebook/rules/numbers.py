"""What a phone number may be, and its normalised form (CONTRACT §2, §4)."""

from __future__ import annotations

from typing import Final

import phonenumbers

from phonebook.rules.fields import FieldError, clean_text

MAX_NUMBER_LENGTH: Final = 64


_NOT_ASCII_DIGITS: Final = {c: None for c in range(128) if not chr(c).isdigit()}


def normalize(number: str) -> str | None:
    """The digits of number, in order, as ASCII; None when it has none.

    phonenumbers maps every Unicode decimal digit (fullwidth, Arabic-Indic, ...)
    to ASCII, so fullwidth "44" normalises like ASCII "44". It walks the string
    in Python (about 20 us a number), so ASCII input, nearly all of it, takes a
    C-speed translate instead.
    """
    if number.isascii():
        return number.translate(_NOT_ASCII_DIGITS) or None
    digits: str = phonenumbers.normalize_digits_only(number)
    return digits or None


def clean_number(value: object) -> str:
    """A trimmed number string of 1..64 characters without control characters."""
    text = clean_text(value, MAX_NUMBER_LENGTH)
    if not text:
        raise FieldError("must not be blank")
    return text


def check_number_for_type(number: str, type_code: str) -> None:
    """Every number needs a digit, except a Skype handle."""
    if type_code != "skype" and normalize(number) is None:
        raise FieldError("must contain at least one digit (only Skype numbers may be handles)")
