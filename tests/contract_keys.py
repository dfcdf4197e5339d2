"""The key orders the contract fixes for each shape (CONTRACT §1-§5), shared by the tests.

Written out here rather than imported from phonebook: a test must not take its
expectations from the code under test.
"""

from __future__ import annotations

from typing import Final

ENVELOPE_KEYS: Final = [
    "api_version",
    "items_count",
    "total_items",
    "limit",
    "offset",
    "item_type",
    "items",
]
NUMBER_ITEM_KEYS: Final = [
    "id",
    "item_id",
    "item_type",
    "number",
    "phone_number_type_id",
    "phone_type_name",
    "is_preferred",
    "not_current",
    "parent_id",
    "normalized_number",
    "created_at",
    "updated_at",
]
# Inside a constituent, a number shows neither item_id nor item_type.
EMBEDDED_NUMBER_KEYS: Final = [k for k in NUMBER_ITEM_KEYS if k not in ("item_id", "item_type")]
CONSTITUENT_ITEM_KEYS: Final = [
    "id",
    "external_constituent_id",
    "is_org",
    "prefix",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "org_name",
    "job_title",
    "sort_name",
    "created_at",
    "updated_at",
]
CONSTITUENT_KEYS: Final = ["api_version", *CONSTITUENT_ITEM_KEYS, "phone_numbers"]
