"""limit and offset of list routes (CONTRACT §5)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from phonebook.errors import bad_request
from phonebook.rules.fields import MAX_ID

DEFAULT_LIMIT: Final = 25
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


def _non_negative(name: str, raw: str) -> int:
    text = raw.strip()
    if not _DIGITS.fullmatch(text):
        raise bad_request(
            f"{name} must be a non-negative integer, got {raw!r}.",
            {name: ["must be a non-negative integer"]},
        )
    if len(text) > len(str(MAX_ID)) or int(text) > MAX_ID:
        raise bad_request(f"{name} is too large.", {name: ["is too large"]})
    return int(text)


def read_page(query: Mapping[str, str], max_limit: int) -> Page:
    """The page a query asks for: limit clamped to max_limit; bad values answer 400."""
    limit = DEFAULT_LIMIT
    offset = 0
    if "limit" in query:
        limit = _non_negative("limit", query["limit"])
        if limit == 0:
            raise bad_request("limit must be at least 1.", {"limit": ["must be at least 1"]})
    if "offset" in query:
        offset = _non_negative("offset", query["offset"])
    return Page(limit=min(limit, max_limit), offset=offset)
