"""The q[] terms of the reverse lookup (CONTRACT §7)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from phonebook.errors import bad_request
from phonebook.rules.numbers import normalize

SUPPORTED: Final = ("phone_number", "name", "external_id")
MAX_TERM_LENGTH: Final = 255


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """Reverse-lookup terms, combined with AND; empty means every constituent."""

    phone_digits: Sequence[str] = field(default_factory=tuple)
    names: Sequence[str] = field(default_factory=tuple)
    external_ids: Sequence[str] = field(default_factory=tuple)

    def is_empty(self) -> bool:
        """No term at all: every constituent of the account."""
        return not (self.phone_digits or self.names or self.external_ids)

    def shape(self) -> tuple[int, int, int]:
        """How many terms of each kind: lookups of one shape cost alike."""
        return len(self.phone_digits), len(self.names), len(self.external_ids)


def read_terms(raw_terms: Sequence[str]) -> SearchTerms:
    """Each q[] value is NAME=TERM; terms combine with AND; unknown names answer 400."""
    digits: list[str] = []
    names: list[str] = []
    external_ids: list[str] = []
    for raw in raw_terms:
        name, sep, term = raw.partition("=")
        name = name.strip()
        if not sep or name not in SUPPORTED:
            raise bad_request(
                f"Unsupported search term {name!r}; supported: {', '.join(SUPPORTED)}.",
                {"q[]": [f"supported terms: {', '.join(SUPPORTED)}"]},
            )
        term = term.strip()
        if not term or len(term) > MAX_TERM_LENGTH:
            raise bad_request(
                f"Search term {name} needs a value of 1 to {MAX_TERM_LENGTH} characters.",
                {"q[]": [f"{name} needs a value"]},
            )
        if name == "phone_number":
            found = normalize(term)
            if found is None:
                raise bad_request(
                    "Search term phone_number needs at least one digit.",
                    {"q[]": ["phone_number needs at least one digit"]},
                )
            digits.append(found)
        elif name == "name":
            names.append(term)
        else:
            external_ids.append(term)
    return SearchTerms(phone_digits=digits, names=names, external_ids=external_ids)
