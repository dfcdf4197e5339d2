"""Shared parameters, error responses and security schemes of the OpenAPI document."""

from __future__ import annotations

from typing import Any, Final

from phonebook.rules.fields import MAX_ID
from phonebook.rules.paging import DEFAULT_LIMIT
from phonebook.rules.search_terms import SUPPORTED

Object = dict[str, Any]

JSON: Final = "application/json"
# Every /api/v1 operation takes the key any of LGL's three ways (CONTRACT §6).
API_SECURITY: Final[list[Object]] = [{"bearer": []}, {"basic": []}, {"access_token": []}]

# NAME=TERM with a non-blank TERM; [\s\S] spans newlines, which the server also strips.
# A phone_number term needs a digit (the app answers 400 without one).
_SEARCH_TERM_PATTERN: Final = (
    r"^\s*(phone_number\s*=[\s\S]*\d|("
    + "|".join(name for name in SUPPORTED if name != "phone_number")
    + r")\s*=[\s\S]*\S)"
)
# A comma-separated list whose only non-blank entries are phone_numbers.
_EXPAND_PATTERN: Final = r"^\s*(phone_numbers)?\s*(,\s*(phone_numbers)?\s*)*$"


def param_ref(name: str) -> Object:
    return {"$ref": f"#/components/parameters/{name}"}


def response_ref(name: str) -> Object:
    return {"$ref": f"#/components/responses/{name}"}


def _path_id(name: str, description: str) -> Object:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"{description}; an unknown id, another account's, or not an id: 404.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    }


def _page_param(name: str, description: str, default: int, minimum: int) -> Object:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "integer", "minimum": minimum, "maximum": MAX_ID, "default": default},
    }


def parameters() -> dict[str, Object]:
    """Every named parameter, for components.parameters."""
    return {
        "constituent_id": _path_id("constituent_id", "Constituent id"),
        "constituent_path_id": _path_id("id", "Constituent id"),
        "phone_number_id": _path_id("id", "Phone number id"),
        "limit": _page_param(
            "limit",
            f"Number of entries to return. Default: {DEFAULT_LIMIT}. Above the server's "
            "maximum (100 unless configured) it is clamped; the envelope shows the limit "
            "applied. Not a positive integer: 400.",
            DEFAULT_LIMIT,
            1,
        ),
        "offset": _page_param(
            "offset", "Start at given entry. Default: 0. Not an integer >= 0: 400.", 0, 0
        ),
        "access_token": {
            "name": "access_token",
            "in": "query",
            "required": False,
            "description": (
                "The API key, instead of an Authorization header (see the access_token "
                "security scheme). A different key in the header too: 400."
            ),
            "schema": {"type": "string"},
        },
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": (
                "1 to 255 printable ASCII characters (400 otherwise). The same key with the "
                "same request within 24 hours replays the first answer, status and body, "
                "with Idempotent-Replayed: true and without writing again; with another "
                "request: 422; while the first is still running in the same process: 409."
            ),
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": 255,
                "pattern": "^[\\x20-\\x7E]+$",
            },
        },
        "IfMatch": {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "description": (
                "Change the object only if it is still as tagged: one or more ETags from "
                "earlier answers, comma-separated, or *. Otherwise 412 and nothing changes."
            ),
            "schema": {"type": "string"},
        },
        "q": {
            "name": "q[]",
            "in": "query",
            "required": False,
            "description": (
                "Search terms NAME=TERM, combined with AND: phone_number=TERM (a number "
                "whose digits contain TERM's digits), name=TERM (a name field contains TERM, "
                "case-insensitive), external_id=TERM (equals). Any other term, an empty "
                "TERM, or a phone_number TERM without digits: 400."
            ),
            "style": "form",
            "explode": True,
            "schema": {
                "type": "array",
                "items": {"type": "string", "pattern": _SEARCH_TERM_PATTERN},
            },
            "example": ["phone_number=555-0044"],
        },
        "expand": {
            "name": "expand",
            "in": "query",
            "required": False,
            "description": "phone_numbers embeds each constituent's numbers. Anything else: 400.",
            "schema": {"type": "string", "pattern": _EXPAND_PATTERN},
            "example": "phone_numbers",
        },
    }


def _error_response(description: str, headers: Object | None = None) -> Object:
    response: Object = {
        "description": description,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _header(description: str) -> Object:
    return {"description": description, "schema": {"type": "string"}}


def etag_header() -> Object:
    return _header(
        "Strong tag of this object as returned; send it in If-Match to change it safely."
    )


def bad_request(*reasons: str) -> Object:
    """A 400, saying what malformed means for this operation."""
    causes = [*(reason for reason in reasons if reason), "two different API keys in one request"]
    return _error_response(f"Bad Request: {'; or '.join(causes)}.")


def responses() -> dict[str, Object]:
    """The error responses shared by operations, for components.responses."""
    retry = {"Retry-After": _header("Seconds to wait before retrying.")}
    return {
        "Unauthorized": _error_response(
            "Unauthorized: no API key, an unknown or revoked one, or malformed credentials.",
            {"WWW-Authenticate": _header("The schemes accepted: Bearer and Basic.")},
        ),
        "Forbidden": _error_response("Forbidden: a read-only API key cannot write."),
        "NotFound": _error_response("Not Found: no such object in this account."),
        "Conflict": _error_response(
            "Conflict: the write collided with a concurrent one; retry it."
        ),
        "PreconditionFailed": _error_response(
            "Precondition Failed: If-Match does not name the object as it is now; nothing "
            "was changed.",
            {"ETag": _header("The object's current tag.")},
        ),
        "RequestTimeout": _error_response(
            "Request Timeout: the body did not arrive within the server's time "
            "(PHONEBOOK_BODY_TIMEOUT_SECONDS); the connection is closed.",
        ),
        "PayloadTooLarge": _error_response("Payload Too Large: the body is over 64 KiB."),
        "UnprocessableEntity": _error_response(
            "Unprocessable Entity: well-formed but invalid; errors names each field at fault."
        ),
        "TooManyRequests": _error_response(
            "Too Many Requests: this API key used its allowance for the window, or this "
            "client failed authentication too often.",
            {
                **retry,
                "RateLimit-Limit": _header("Requests allowed in the window."),
                "RateLimit-Remaining": _header("Requests left in the window."),
                "RateLimit-Reset": _header("Seconds until the window resets."),
            },
        ),
        "ServiceUnavailable": _error_response(
            "Service Unavailable: the database is busy or unreachable; retry shortly.", retry
        ),
    }


def security_schemes() -> dict[str, Object]:
    return {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "Authorization: Bearer KEY",
        },
        "basic": {
            "type": "http",
            "scheme": "basic",
            "description": "HTTP Basic with the API key as user name and an empty password.",
        },
        "access_token": {
            "type": "apiKey",
            "in": "query",
            "name": "access_token",
            "description": "?access_token=KEY (kept out of next_link).",
        },
    }
