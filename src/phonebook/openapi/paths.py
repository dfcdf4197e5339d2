"""Every route the app serves, as OpenAPI path items (api/*.py `routes`, CONTRACT §1)."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Any

from phonebook.openapi import examples
from phonebook.openapi.components import (
    API_SECURITY,
    JSON,
    bad_request,
    etag_header,
    param_ref,
    response_ref,
)
from phonebook.openapi.schemas import ref

Object = dict[str, Any]

_SINGLE_OBJECTS = ("PhoneNumber", "Constituent")
_PAGING = "limit or offset is not an integer >= 0, or limit is 0"
_BODY = "the body is not JSON, or not a JSON object"


@dataclass(frozen=True, slots=True)
class Op:
    """What sets one /api/v1 operation apart; _api_operation() builds the rest."""

    operation_id: str
    tag: str
    summary: str
    description: str
    _: KW_ONLY
    success: str
    path_id: str | None = None
    query: tuple[str, ...] = ()
    body: str | None = None
    writes: bool = False
    malformed: str = ""
    success_example: Object | None = None
    body_example: Object | None = None
    conditional: bool = False  # takes If-Match; 412 on a stale tag (CONTRACT §8)
    idempotent: bool = False  # takes Idempotency-Key (CONTRACT §8)


def _json(schema_name: str, example: Object | None = None) -> Object:
    media: Object = {"schema": ref(schema_name)}
    if example is not None:
        media["example"] = example
    return {JSON: media}


def _parameters(op: Op) -> list[Object]:
    names = [op.path_id] if op.path_id else []
    headers = ["IfMatch"] * op.conditional + ["IdempotencyKey"] * op.idempotent
    return [param_ref(name) for name in (*names, *op.query, "access_token", *headers)]


def _error_responses(op: Op) -> Object:
    """Each error status this operation can answer, in status order."""
    errors: Object = {
        "400": bad_request(op.malformed, _BODY if op.body else ""),
        "401": response_ref("Unauthorized"),
    }
    if op.writes:
        errors["403"] = response_ref("Forbidden")
    if op.path_id:
        errors["404"] = response_ref("NotFound")
    if op.writes:
        errors["409"] = response_ref("Conflict")
    if op.conditional:
        errors["412"] = response_ref("PreconditionFailed")
    if op.body or op.idempotent:  # an Idempotency-Key fingerprints the body
        errors["408"] = response_ref("RequestTimeout")
        errors["413"] = response_ref("PayloadTooLarge")
        errors["422"] = response_ref("UnprocessableEntity")
    errors["429"] = response_ref("TooManyRequests")
    errors["503"] = response_ref("ServiceUnavailable")
    return dict(sorted(errors.items()))


def _api_operation(op: Op) -> Object:
    operation: Object = {
        "operationId": op.operation_id,
        "tags": [op.tag],
        "summary": op.summary,
        "description": op.description,
        "security": API_SECURITY,
        "parameters": _parameters(op),
    }
    if op.body:
        operation["requestBody"] = {
            "required": True,
            "description": "JSON, read as such whatever the declared content type.",
            "content": _json(op.body, op.body_example),
        }
    ok: Object = {"description": "Ok", "content": _json(op.success, op.success_example)}
    if op.success in _SINGLE_OBJECTS:
        ok["headers"] = {"ETag": etag_header()}
    operation["responses"] = {"200": ok, **_error_responses(op)}
    return operation


def _phone_number_paths() -> dict[str, Object]:
    numbers, one = "Phone numbers", "/api/v1/phone_numbers/{id}"
    return {
        "/api/v1/constituents/{constituent_id}/phone_numbers": {
            "get": Op(
                "listPhoneNumbers",
                numbers,
                "Fetch Phone Numbers",
                "Lists the constituent's phone numbers, by id.",
                success="PhoneNumberList",
                path_id="constituent_id",
                query=("limit", "offset"),
                malformed=_PAGING,
                success_example=examples.PHONE_NUMBER_LIST,
            ),
            "post": Op(
                "createPhoneNumber",
                numbers,
                "Create new Phone Number",
                "Adds a phone number to the constituent. Making it preferred clears the "
                "flag on the constituent's other numbers.",
                success="PhoneNumber",
                path_id="constituent_id",
                body="PhoneNumberCreateBody",
                writes=True,
                idempotent=True,
                success_example=examples.CREATED_NUMBER,
                body_example={"number": "222-555-1212"},
            ),
        },
        one: {
            "get": Op(
                "getPhoneNumber",
                numbers,
                "Show Phone Number details",
                "Shows the phone number.",
                success="PhoneNumber",
                path_id="phone_number_id",
                success_example=examples.CREATED_NUMBER,
            ),
            "patch": Op(
                "updatePhoneNumber",
                numbers,
                "Update Phone Number",
                "Changes the fields the body carries. Making it preferred clears the flag "
                "on the constituent's other numbers.",
                success="PhoneNumber",
                path_id="phone_number_id",
                body="PhoneNumberUpdateBody",
                writes=True,
                conditional=True,
                success_example=examples.UPDATED_NUMBER,
                body_example={"phone_number_type_id": 2},
            ),
            "delete": Op(
                "deletePhoneNumber",
                numbers,
                "Delete Phone Number",
                "Deletes the phone number.",
                success="DeleteResult",
                path_id="phone_number_id",
                writes=True,
                conditional=True,
                success_example=examples.DELETED,
            ),
        },
    }


def _constituent_paths() -> dict[str, Object]:
    people, expand = "Constituents", f"{_PAGING}; expand names something else than phone_numbers"
    return {
        "/api/v1/constituents": {
            "get": Op(
                "listConstituents",
                people,
                "List constituents",
                "Lists the account's constituents, by id.",
                success="ConstituentList",
                query=("limit", "offset", "expand"),
                malformed=expand,
            ),
            "post": Op(
                "createConstituent",
                people,
                "Create a constituent",
                "Creates a constituent and, in the same transaction, the phone numbers "
                "its body carries: all of them, or nothing.",
                success="Constituent",
                body="ConstituentCreateBody",
                writes=True,
                idempotent=True,
            ),
        },
        "/api/v1/constituents/search": {
            "get": Op(
                "searchConstituents",
                people,
                "Search constituents",
                "The reverse lookup: constituents matching every q[] term, by id. "
                "Example: q[]=phone_number=555-0044.",
                success="ConstituentList",
                query=("q", "limit", "offset", "expand"),
                malformed=f"{expand}; a q[] term is unsupported, empty, or a phone_number "
                "term without digits",
            ),
        },
        "/api/v1/constituents/{id}": {
            "get": Op(
                "getConstituent",
                people,
                "Show a constituent",
                "Shows the constituent with its phone numbers.",
                success="Constituent",
                path_id="constituent_path_id",
            ),
            "patch": Op(
                "updateConstituent",
                people,
                "Update a constituent",
                "Changes the fields the body carries; phone_numbers is ignored here.",
                success="Constituent",
                path_id="constituent_path_id",
                body="ConstituentUpdateBody",
                writes=True,
                conditional=True,
            ),
            "delete": Op(
                "deleteConstituent",
                people,
                "Delete a constituent",
                "Deletes the constituent and its phone numbers together.",
                success="DeleteResult",
                path_id="constituent_path_id",
                writes=True,
                conditional=True,
            ),
        },
    }


def _type_paths() -> dict[str, Object]:
    return {
        "/api/v1/types/phone_number_types": {
            "get": Op(
                "listPhoneNumberTypes",
                "Types",
                "List phone number types",
                "The phone number types, by id.",
                success="PhoneNumberTypeList",
                query=("limit", "offset"),
                malformed=_PAGING,
            )
        }
    }


def _audit_paths() -> dict[str, Object]:
    """Beyond LGL (CONTRACT §8): the audit trail, and restoring from it."""
    trail = "Audit trail"
    return {
        "/api/v1/phone_numbers/{id}/history": {
            "get": Op(
                "getPhoneNumberHistory",
                trail,
                "Phone Number history",
                "Every create, update, delete and restore of the number, oldest first: who "
                "(key_id; null for the command line), when, and the number before and after. "
                "Also for a deleted number.",
                success="PhoneNumberHistory",
                path_id="phone_number_id",
                query=("limit", "offset"),
                malformed=_PAGING,
            )
        },
        "/api/v1/phone_numbers/{id}/restore": {
            "post": Op(
                "restorePhoneNumber",
                trail,
                "Restore a deleted Phone Number",
                "Brings the number back as it was deleted, with its id. It is preferred again "
                "only if its constituent has no preferred number now. 409 if the number is "
                "not deleted, or if its constituent is (restore the constituent instead).",
                success="PhoneNumber",
                path_id="phone_number_id",
                writes=True,
                idempotent=True,
            )
        },
        "/api/v1/constituents/{id}/restore": {
            "post": Op(
                "restoreConstituent",
                trail,
                "Restore a deleted Constituent",
                "Brings the constituent back as it was deleted, with its id, and the numbers "
                "deleted with it, with theirs. 409 if the constituent is not deleted.",
                success="Constituent",
                path_id="constituent_path_id",
                writes=True,
                idempotent=True,
            )
        },
        "/api/v1/constituents/{id}/history": {
            "get": Op(
                "getConstituentHistory",
                trail,
                "Constituent history",
                "Every create, update and delete of the constituent's own fields, oldest "
                "first; its numbers have their own history. Also for a deleted constituent.",
                success="ConstituentHistory",
                path_id="constituent_path_id",
                query=("limit", "offset"),
                malformed=_PAGING,
            )
        },
    }


def _service_operation(operation_id: str, summary: str, responses: Object) -> Object:
    """A route about the service itself: no API key."""
    return {
        "operationId": operation_id,
        "tags": ["Service"],
        "summary": summary,
        "security": [],
        "responses": responses,
    }


def _meta_paths() -> dict[str, Object]:
    health = _json("Health")
    retry = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}}
    html = {"text/html": {"schema": {"type": "string"}}}
    openapi = {JSON: {"schema": {"type": "object"}}}
    return {
        "/healthz": {
            "get": _service_operation(
                "healthz",
                "Health check for load balancers",
                {
                    "200": {"description": "The database answers.", "content": health},
                    "503": {"description": "It does not.", "content": health, "headers": retry},
                },
            )
        },
        "/openapi.json": {
            "get": _service_operation(
                "openapi",
                "This OpenAPI document",
                {"200": {"description": "Ok", "content": openapi}},
            )
        },
        "/docs": {
            "get": _service_operation(
                "docs", "Human-readable API docs", {"200": {"description": "Ok", "content": html}}
            )
        },
    }


def paths() -> dict[str, Object]:
    """The paths object: every route, every method it serves."""
    api = {**_phone_number_paths(), **_constituent_paths(), **_type_paths(), **_audit_paths()}
    built = {
        path: {method: _api_operation(op) for method, op in item.items()}
        for path, item in api.items()
    }
    return {**built, **_meta_paths()}
