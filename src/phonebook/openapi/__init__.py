"""The OpenAPI 3.1 document describing every route, served at /openapi.json (CONTRACT §8)."""

from __future__ import annotations

from functools import cache
from typing import Any

from phonebook import __version__
from phonebook.openapi.components import parameters, responses, security_schemes
from phonebook.openapi.paths import paths
from phonebook.openapi.schemas import component_schemas

_DESCRIPTION = """\
The Little Green Light (LGL) API v1 phone-number endpoints, and the constituents
they hang off, self-hosted.

Every /api/v1 route needs an API key, sent one of three ways: `Authorization:
Bearer KEY`, HTTP Basic with the key as user name and an empty password, or
`?access_token=KEY`. A read-only key may only read (403 otherwise).

Bodies are JSON, read as JSON whatever the declared content type, at most 64 KiB.
Booleans also accept "true"/"false"/"1"/"0" and 0/1; integers also accept a
string of digits. Keys of the response objects sent back in a body are ignored;
any other unknown key answers 422, naming it.

Every error answers LGL's error body: `{"api_version": "1.0", "error",
"description", "errors"}` (`errors` only when fields are at fault). A method a
route does not serve answers 405 with an `Allow` header. Every JSON answer carries
`Cache-Control: no-store`.
"""


@cache
def document() -> dict[str, Any]:
    """The document, built once; callers must not mutate it."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Phonebook",
            "version": __version__,
            "summary": "The LGL API v1 phone-number endpoints, self-hosted.",
            "description": _DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "tags": [
            {"name": "Phone numbers", "description": "LGL's Phone Number Management."},
            {"name": "Constituents", "description": "The LGL subset numbers hang off."},
            {"name": "Types", "description": "Phone number types."},
            {"name": "Audit trail", "description": "Beyond LGL: who changed what, and restore."},
            {"name": "Service", "description": "Phonebook itself; no API key needed."},
        ],
        "paths": paths(),
        "components": {
            "schemas": component_schemas(),
            "parameters": parameters(),
            "responses": responses(),
            "securitySchemes": security_schemes(),
        },
    }
