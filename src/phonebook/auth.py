"""Who is calling: an API key by Bearer, Basic or access_token, as LGL takes it (CONTRACT §6)."""

from __future__ import annotations

import base64
import binascii
from typing import Final

from starlette.requests import Request

from phonebook.api.requests import context_of
from phonebook.errors import ApiError, bad_request, forbidden, unauthorized
from phonebook.rate_limits import RateLimits
from phonebook.service.accounts import KeyCache, authenticate_hash, hash_key
from phonebook.service.context import Caller

READ_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_KEY_LENGTH: Final = 256


async def authorize(request: Request) -> Caller:
    """The caller of this request; 401 without a valid key, 403 for a read-only key writing.

    A client that keeps failing authentication is answered 429 before its key
    is looked up in the database, even a valid one; a valid key over its request
    allowance, 429 too. A key this process has just validated (the key cache)
    skips the client check: the throttle guards the lookups a guesser causes,
    and keeping it off the hot path saves a counter read per request.
    """
    state = request.app.state
    limits: RateLimits = state.rate_limits
    cache: KeyCache = state.keys
    try:
        key_hash = hash_key(presented_key(request))
        caller = cache.get(key_hash)
        if caller is None:
            await limits.check_client(_client(request))
            caller = authenticate_hash(context_of(request).database, key_hash, cache)
        if caller is None:
            raise unauthorized("The API key is unknown or revoked.")
    except ApiError as exc:
        if exc.status == 401:
            await limits.record_failure(_client(request))
        raise
    await limits.check_key(caller.key_id)
    if caller.read_only and request.method not in READ_METHODS:
        raise forbidden("This API key is read-only; writing needs a read-write key.")
    return caller


def _client(request: Request) -> str:
    client = request.client
    return client.host if client else "unknown"


def presented_key(request: Request) -> str:
    """The one key the request carries; two different ones answer 400."""
    keys = set()
    header = _authorization(request)
    if header is not None:
        keys.add(_key_from_header(header))
    # Parsing the query string costs more than the rest of auth: only when it may matter.
    if b"access" in request.scope["query_string"]:
        token = request.query_params.get("access_token")
        if token is not None:
            keys.add(token)
    keys.discard("")
    if not keys:
        raise unauthorized(
            "An API key is required: Authorization: Bearer KEY, Basic auth with the key "
            "as user name, or ?access_token=KEY."
        )
    if len(keys) > 1:
        raise bad_request("The request carries two different credentials; send one.")
    key = keys.pop()
    if len(key) > MAX_KEY_LENGTH:
        raise unauthorized("The API key is unknown or revoked.")
    return key


def _authorization(request: Request) -> str | None:
    """The first Authorization header, as Headers.get finds it, without building Headers."""
    for name, value in request.scope["headers"]:
        if name == b"authorization":  # ASGI servers send names lower-cased
            text: str = value.decode("latin-1")
            return text
    return None


def _key_from_header(header: str) -> str:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized("The Basic credentials are not valid base64 of KEY:.") from None
        user, _, password = decoded.partition(":")
        if password:
            raise unauthorized("Basic auth takes the key as user name and an empty password.")
        return user
    raise unauthorized("Unsupported Authorization scheme; use Bearer or Basic.")
