"""Reading a constituent create/update body (CONTRACT §1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from phonebook.rules.fields import BodyErrors, FieldError, clean_text, lax_bool
from phonebook.rules.phone_number_input import PhoneNumberInput, read_phone_number

NAME_FIELDS: Final = (
    "external_constituent_id",
    "prefix",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "org_name",
    "job_title",
)
WRITABLE: Final = ("is_org", *NAME_FIELDS)
# phone_numbers is read on create only; on update it is ignored like the other
# response-only keys, so a fetched constituent can be sent back unchanged.
READ_ONLY: Final = ("id", "sort_name", "created_at", "updated_at", "api_version")
MAX_TEXT_LENGTH: Final = 255
MAX_NESTED_NUMBERS: Final = 100


@dataclass(frozen=True, slots=True)
class ConstituentInput:
    """The writable fields a body set: a key present here was in the body."""

    values: Mapping[str, object] = field(default_factory=dict)
    phone_numbers: tuple[PhoneNumberInput, ...] = ()


def _optional_text(value: object) -> str | None:
    if value is None:
        return None
    return clean_text(value, MAX_TEXT_LENGTH) or None


def read_constituent(body: Mapping[str, object], *, creating: bool) -> ConstituentInput:
    """Parse body; every problem is raised together as one 422."""
    errors = BodyErrors()
    read_only = READ_ONLY if creating else (*READ_ONLY, "phone_numbers")
    writable = (*WRITABLE, "phone_numbers") if creating else WRITABLE
    errors.check_keys(body, writable, read_only)
    values: dict[str, object] = {}
    if "is_org" in body:
        is_org = errors.read(body, "is_org", lax_bool)
        if is_org is not None:
            values["is_org"] = is_org
    for name in NAME_FIELDS:
        if name in body:
            try:
                values[name] = _optional_text(body[name])
            except FieldError as exc:
                errors.add(name, str(exc))
    numbers = _read_numbers(body.get("phone_numbers"), errors) if creating else ()
    errors.raise_if_any()
    return ConstituentInput(values=values, phone_numbers=numbers)


def _read_numbers(raw: object, errors: BodyErrors) -> tuple[PhoneNumberInput, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors.add("phone_numbers", "must be an array of phone number objects")
        return ()
    if len(raw) > MAX_NESTED_NUMBERS:
        errors.add("phone_numbers", f"must hold at most {MAX_NESTED_NUMBERS} numbers")
        return ()
    numbers = []
    for index, item in enumerate(raw):
        prefix = f"phone_numbers[{index}]."
        if not isinstance(item, dict):
            errors.add(f"phone_numbers[{index}]", "must be an object")
            continue
        number = read_phone_number(item, errors, prefix)
        if "number" not in item:
            errors.add(prefix + "number", "is required")
        numbers.append(number)
    return tuple(numbers)


def missing_name(merged: Mapping[str, object]) -> str | None:
    """The name field a constituent lacks: last_name for a person, org_name for an org."""
    needed = "org_name" if merged.get("is_org") else "last_name"
    return None if merged.get(needed) else needed
