"""The model of tests/test_state_machine.py: the phone number contract, parsed and stored.

What a body means (parse, and the 422s it implies), what a number or constituent
must look like once stored, and helpers for reading a response.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final

TYPES: Final = {
    1: "Home",
    2: "Work",
    3: "Mobile",
    4: "Other",
    5: "Fax",
    6: "Skype",
    7: "Assistant",
    8: "Pager",
}
HOME: Final = 1
SKYPE: Final = 6
WRITABLE: Final = {
    "number",
    "phone_number_type_id",
    "phone_type_name",
    "is_preferred",
    "not_current",
}
READ_ONLY: Final = {
    "id",
    "item_id",
    "item_type",
    "normalized_number",
    "parent_id",
    "created_at",
    "updated_at",
    "api_version",
}

Body = dict[str, object]


def digits_of(text: str) -> str | None:
    """normalized_number: every decimal digit, as ASCII, in order; None without one."""
    found = "".join(
        str(unicodedata.decimal(ch)) for ch in text if unicodedata.decimal(ch, None) is not None
    )
    return found or None


class RejectedError(Exception):
    """The model expects 422."""


def _lax_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    raise RejectedError


def _lax_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]{1,19}", value):
        return int(value)
    raise RejectedError


@dataclass(frozen=True)
class Parsed:
    """A phone number body as the contract reads it; None: not given."""

    number: str | None
    type_id: int | None
    type_name: str | None
    is_preferred: bool | None
    not_current: bool | None

    def chosen_type(self) -> int | None:
        """The type the body names; unknown or contradictory: 422."""
        by_id = by_name = None
        if self.type_id is not None:
            if self.type_id not in TYPES:
                raise RejectedError
            by_id = self.type_id
        if self.type_name is not None:
            matches = [i for i, name in TYPES.items() if name.lower() == self.type_name.lower()]
            if not matches:
                raise RejectedError
            by_name = matches[0]
        if by_id is not None and by_name is not None and by_id != by_name:
            raise RejectedError
        return by_id or by_name


def parse(body: Body) -> Parsed:
    """Keys, value types and lax forms (CONTRACT §4): checked before the object is looked up."""
    if set(body) - WRITABLE - READ_ONLY:
        raise RejectedError
    number = None
    if "number" in body:
        raw = body["number"]
        if not isinstance(raw, str):
            raise RejectedError
        number = raw.strip()
        bad = any(unicodedata.category(ch) in ("Cc", "Cs") for ch in number)
        if not 1 <= len(number) <= 64 or bad:
            raise RejectedError
    type_id = (
        None if body.get("phone_number_type_id") is None else _lax_int(body["phone_number_type_id"])
    )
    type_name = None
    if body.get("phone_type_name") is not None:
        raw_name = body["phone_type_name"]
        if not isinstance(raw_name, str):
            raise RejectedError
        type_name = raw_name.strip() or None
    preferred = _lax_bool(body["is_preferred"]) if "is_preferred" in body else None
    not_current = _lax_bool(body["not_current"]) if "not_current" in body else None
    return Parsed(number, type_id, type_name, preferred, not_current)


def check_number_for_type(number: str, type_id: int) -> None:
    if type_id != SKYPE and digits_of(number) is None:
        raise RejectedError


def invalid_on_its_own(parsed: Parsed) -> bool:
    """The body names an unknown or contradictory type, or a handle for a non-Skype type.

    Sent to an id that names nothing, such a body may be judged before the lookup (422)
    or after it (404): the contract does not say which.
    """
    try:
        chosen = parsed.chosen_type()
        if parsed.number is not None and chosen is not None:
            check_number_for_type(parsed.number, chosen)
    except RejectedError:
        return True
    return False


@dataclass
class NumberModel:
    id: int
    account: int
    constituent_id: int
    number: str
    type_id: int
    is_preferred: bool
    not_current: bool
    deleted: bool = False
    created_at: str | None = None
    updated_at: str | None = None  # as last seen through the API
    may_move: bool = False  # changed since last seen: updated_at may have moved

    def expected(self) -> Body:
        """The object as listed, without its timestamps."""
        return {
            "id": self.id,
            "item_id": self.constituent_id,
            "item_type": "Constituent",
            "number": self.number,
            "phone_number_type_id": self.type_id,
            "phone_type_name": TYPES[self.type_id],
            "is_preferred": self.is_preferred,
            "not_current": self.not_current,
            "parent_id": None,
            "normalized_number": digits_of(self.number),
        }


@dataclass
class ConstituentModel:
    id: int
    account: int
    external_id: str
    last_name: str
    deleted: bool = False


def json_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    return body


def error_part(response: Any) -> tuple[int, Any, Any]:
    """What must not tell a missing id from another account's: status, error, errors."""
    body = json_of(response)
    return response.status_code, body.get("error"), body.get("errors")
