"""Reading a phone number create/update body (CONTRACT §4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from phonebook.rules.fields import BodyErrors, clean_text, lax_bool, lax_int
from phonebook.rules.numbers import clean_number

WRITABLE: Final = (
    "number",
    "phone_number_type_id",
    "phone_type_name",
    "is_preferred",
    "not_current",
)
# Keys of the response object: a client may send a fetched object back (CONTRACT §4).
READ_ONLY: Final = (
    "id",
    "item_id",
    "item_type",
    "normalized_number",
    "parent_id",
    "created_at",
    "updated_at",
    "api_version",
)
MAX_TYPE_NAME_LENGTH: Final = 50


@dataclass(frozen=True, slots=True)
class PhoneNumberInput:
    """The writable fields a body carried; None means the body did not set it."""

    number: str | None = None
    type_id: int | None = None
    type_name: str | None = None
    is_preferred: bool | None = None
    not_current: bool | None = None


def _type_name(value: object) -> str:
    return clean_text(value, MAX_TYPE_NAME_LENGTH)


def read_phone_number(
    body: Mapping[str, object], errors: BodyErrors, prefix: str = ""
) -> PhoneNumberInput:
    """Parse body, recording every problem in errors (field names under prefix).

    A null type id or name means "not given", so a client may clear one and set
    the other; a null anywhere else is the wrong type.
    """
    errors.check_keys(body, WRITABLE, READ_ONLY, prefix)
    return PhoneNumberInput(
        number=errors.read(body, "number", clean_number, prefix=prefix),
        type_id=errors.read(
            body, "phone_number_type_id", lax_int, prefix=prefix, null_is_absent=True
        ),
        type_name=errors.read(
            body, "phone_type_name", _type_name, prefix=prefix, null_is_absent=True
        )
        or None,
        is_preferred=errors.read(body, "is_preferred", lax_bool, prefix=prefix),
        not_current=errors.read(body, "not_current", lax_bool, prefix=prefix),
    )
