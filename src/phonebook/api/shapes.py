"""Every response shape, in the contract's key order (CONTRACT §1, §2, §3, §5)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from phonebook import API_VERSION
from phonebook.rules.paging import Page
from phonebook.service.audit import HistoryEvent
from phonebook.service.constituents import ConstituentView
from phonebook.service.types import TypeCatalog
from phonebook.store.constituents import ConstituentRow
from phonebook.store.phone_numbers import PhoneNumberRow
from phonebook.store.types import TypeRow

Body = dict[str, Any]


# Timestamps stay datetimes here: responses.render writes them as LGL shows them,
# UTC to the second (2023-09-18T18:25:01Z), in C.


def phone_number_item(row: PhoneNumberRow, types: TypeCatalog) -> Body:
    """A list item: the object as shown, without api_version."""
    return {
        "id": row.id,
        "item_id": row.constituent_id,
        "item_type": "Constituent",
        "number": row.number,
        "phone_number_type_id": row.phone_number_type_id,
        "phone_type_name": types.name_of(row.phone_number_type_id),
        "is_preferred": row.is_preferred,
        "not_current": row.not_current,
        "parent_id": None,
        "normalized_number": row.normalized_number,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def phone_number(row: PhoneNumberRow, types: TypeCatalog) -> Body:
    """Show, create and update: api_version first."""
    return {"api_version": API_VERSION} | phone_number_item(row, types)


def embedded_phone_number(row: PhoneNumberRow, types: TypeCatalog) -> Body:
    """Inside a constituent: without item_id and item_type, as LGL embeds them."""
    body = phone_number_item(row, types)
    del body["item_id"], body["item_type"]
    return body


def sort_name(row: ConstituentRow) -> str:
    """ "Last, First" for a person; the organisation's name for an organisation."""
    if row.is_org:
        return row.org_name or ""
    return ", ".join(part for part in (row.last_name, row.first_name) if part)


def _constituent_fields(view: ConstituentView, types: TypeCatalog, body: Body) -> Body:
    row = view.row
    body["id"] = row.id
    body["external_constituent_id"] = row.external_constituent_id
    body["is_org"] = row.is_org
    body["prefix"] = row.prefix
    body["first_name"] = row.first_name
    body["middle_name"] = row.middle_name
    body["last_name"] = row.last_name
    body["suffix"] = row.suffix
    body["org_name"] = row.org_name
    body["job_title"] = row.job_title
    body["sort_name"] = sort_name(row)
    body["created_at"] = row.created_at
    body["updated_at"] = row.updated_at
    if view.numbers is not None:
        body["phone_numbers"] = [embedded_phone_number(n, types) for n in view.numbers]
    return body


def constituent(view: ConstituentView, types: TypeCatalog) -> Body:
    return _constituent_fields(view, types, {"api_version": API_VERSION})


def constituent_item(view: ConstituentView, types: TypeCatalog) -> Body:
    return _constituent_fields(view, types, {})


def phone_number_type(row: TypeRow) -> Body:
    return {
        "id": row.id,
        "name": row.name,
        "display_name": row.name,
        "code": row.code,
        "ordinal": row.ordinal,
    }


def _state(row: PhoneNumberRow | ConstituentRow | None, types: TypeCatalog) -> Body | None:
    if row is None:
        return None
    if isinstance(row, PhoneNumberRow):
        return phone_number_item(row, types)
    return constituent_item(ConstituentView(row), types)


def history_event(item: HistoryEvent, types: TypeCatalog) -> Body:
    """One audit event; before and after in the shape the object had in lists."""
    event = item.event
    return {
        "id": event.id,
        "action": event.action,
        "occurred_at": event.occurred_at,
        "key_id": event.key_id,
        "before": _state(item.before, types),
        "after": _state(item.after, types),
    }


def deleted() -> Body:
    return {"api_version": API_VERSION, "result": "success"}


def next_link(request: Request, public_url: str, page: Page, next_offset: int) -> str:
    """The next page's absolute URL: same path and query, offset moved, keys sorted.

    The access_token never appears in a link (CONTRACT §5).
    """
    params = [
        (key, value)
        for key, value in request.query_params.multi_items()
        if key not in ("access_token", "limit", "offset")
    ]
    params += [("limit", str(page.limit)), ("offset", str(next_offset))]
    params.sort(key=lambda pair: pair[0])
    base = public_url.rstrip("/") or f"{request.url.scheme}://{request.url.netloc}"
    return f"{base}{request.url.path}?{urlencode(params)}"


def list_envelope(
    request: Request,
    public_url: str,
    page: Page,
    total: int,
    item_type: str,
    items: Sequence[Body],
) -> Body:
    """The list envelope; next_item and next_link only when a later page exists."""
    body: Body = {
        "api_version": API_VERSION,
        "items_count": len(items),
        "total_items": total,
        "limit": page.limit,
        "offset": page.offset,
    }
    next_offset = page.offset + page.limit
    if next_offset < total:
        body["next_item"] = next_offset
        body["next_link"] = next_link(request, public_url, page, next_offset)
    body["item_type"] = item_type
    body["items"] = items
    return body
