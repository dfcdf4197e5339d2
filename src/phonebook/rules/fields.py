"""Lax, total parsing of JSON request bodies into typed values (CONTRACT §4).

LGL accepts "2" for 2 and "true"/"false"/"1"/"0" for booleans; anything else of
the wrong type is a 422 naming the field. Every problem in a body is collected,
so one answer names them all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Final, TypeVar

from phonebook.errors import ApiError, unprocessable

# 19 digits hold every 64-bit id; longer strings would also trip int()'s
# 4300-digit guard with a bare ValueError.
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
_TRUE: Final = frozenset({"true", "1"})
_FALSE: Final = frozenset({"false", "0"})
# Ids are stored as 64-bit integers; anything beyond cannot name a row.
MAX_ID: Final = 2**63 - 1


T = TypeVar("T")


class FieldError(ValueError):
    """One field's value is unacceptable; the message says why."""


def lax_int(value: object) -> int:
    """An integer, or a string of one ("2" for 2)."""
    if isinstance(value, bool):
        raise FieldError("must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    raise FieldError("must be an integer")


def lax_bool(value: object) -> bool:
    """A boolean, or one of LGL's lax spellings: "true"/"false"/"1"/"0", 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise FieldError('must be a boolean (true, false, "true", "false", "1" or "0")')


def has_control_characters(text: str) -> bool:
    """Control characters, or lone surrogates (JSON can escape them; no database stores them)."""
    # Printable text has neither (isprintable is False for every Cc and Cs character),
    # and nearly all text is printable: one C call instead of a lookup per character.
    return not text.isprintable() and any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def clean_text(value: object, max_length: int) -> str:
    """A trimmed string of at most max_length characters, free of control characters."""
    if not isinstance(value, str):
        raise FieldError("must be a string")
    text = value.strip()
    if len(text) > max_length:
        raise FieldError(f"must be at most {max_length} characters")
    if has_control_characters(text):
        raise FieldError("must not contain control characters or lone surrogates")
    return text


class BodyErrors:
    """Collects field errors across a body and raises them together as one 422."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def check_keys(
        self,
        body: Mapping[str, object],
        writable: Iterable[str],
        read_only: Iterable[str],
        prefix: str = "",
    ) -> None:
        """Unknown keys are errors; read-only keys are silently ignored (CONTRACT §4)."""
        known = set(writable) | set(read_only)
        for key in body:
            if key not in known:
                self.add(prefix + key, "is not a known field")

    def read(
        self,
        body: Mapping[str, object],
        key: str,
        parse: Callable[[object], T],
        *,
        prefix: str = "",
        null_is_absent: bool = False,
    ) -> T | None:
        """parse(body[key]); None when absent (or null, if allowed) or invalid (recorded)."""
        if key not in body:
            return None
        raw = body[key]
        if raw is None and null_is_absent:
            return None
        try:
            return parse(raw)
        except FieldError as exc:
            self.add(prefix + key, str(exc))
            return None

    def raise_if_any(self) -> None:
        if self.errors:
            raise self.as_error()

    def as_error(self) -> ApiError:
        names = ", ".join(self.errors)
        return unprocessable(f"Invalid fields: {names}.", self.errors)
