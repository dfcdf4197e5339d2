"""The OpenAPI 3.1 document describing every route (placeholder, filled in below)."""

from __future__ import annotations

from typing import Any


def document() -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "Phonebook", "version": "0.1.0"}, "paths": {}}
