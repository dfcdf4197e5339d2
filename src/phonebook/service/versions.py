"""Strong ETags and If-Match (CONTRACT §8): a stale tag changes nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from phonebook.errors import ApiError
from phonebook.store.phone_numbers import PhoneNumberRow

if TYPE_CHECKING:  # service.constituents uses check() from here
    from phonebook.service.constituents import ConstituentView

IfMatch = frozenset[str] | None  # None: no If-Match header; "*" matches any current object


def _tag(parts: Iterable[tuple[int, datetime]]) -> str:
    """A quoted tag over ids and change times: it moves exactly when the object does."""
    text = ";".join(f"{ident}@{moment.isoformat()}" for ident, moment in parts)
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def number_etag(row: PhoneNumberRow) -> str:
    return _tag([(row.id, row.updated_at)])


def constituent_etag(view: ConstituentView) -> str:
    """The constituent as shown embeds its numbers, so their changes move its tag too."""
    numbers = [(n.id, n.updated_at) for n in view.numbers or ()]
    return _tag([(view.row.id, view.row.updated_at), *numbers])


def check(if_match: IfMatch, current: str) -> None:
    """412 unless the client's If-Match names the object as it is now."""
    if if_match is None or "*" in if_match or current in if_match:
        return
    raise ApiError(
        412,
        "Precondition Failed",
        "The object changed since the ETag you sent in If-Match; fetch it again.",
        headers={"ETag": current},
    )
