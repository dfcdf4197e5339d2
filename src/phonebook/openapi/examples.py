"""The source document's own examples, shown in the docs (lgl-phone-number-management.md)."""

from __future__ import annotations

from typing import Any, Final

_MOBILE: Final[dict[str, Any]] = {
    "id": 479627,
    "item_id": 959480,
    "item_type": "Constituent",
    "number": "(888) 555-0044",
    "phone_number_type_id": 3,
    "phone_type_name": "Mobile",
    "is_preferred": True,
    "not_current": False,
    "parent_id": None,
    "normalized_number": "8885550044",
    "created_at": "2023-09-18T18:25:01Z",
    "updated_at": "2023-09-19T22:34:56Z",
}

PHONE_NUMBER_LIST: Final[dict[str, Any]] = {
    "api_version": "1.0",
    "items_count": 1,
    "total_items": 1,
    "limit": 25,
    "offset": 0,
    "item_type": "phone_number",
    "items": [_MOBILE],
}

CREATED_NUMBER: Final[dict[str, Any]] = {
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

UPDATED_NUMBER: Final[dict[str, Any]] = {
    **CREATED_NUMBER,
    "phone_number_type_id": 2,
    "phone_type_name": "Work",
}

DELETED: Final[dict[str, Any]] = {"api_version": "1.0", "result": "success"}
