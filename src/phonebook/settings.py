"""One frozen Settings, built once from flags and PHONEBOOK_* variables.

Nothing else in Phonebook reads the environment: entrypoints build a Settings
here and pass it down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///phonebook.db"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, with the defaults a fresh checkout runs on."""

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    # CONTRACT §6: bodies over 64 KiB answer 413.
    max_body_bytes: int = 64 * 1024
    # Seconds a client has to send a request's whole body before 408 (0: no limit).
    body_timeout_seconds: float = 10.0
    # Milliseconds one SQL statement of a request may run before it is cancelled
    # and answered 503 (0: no limit). CLI commands and migrations are not limited.
    statement_timeout_ms: int = 5000
    # CONTRACT §5: limit is clamped to this.
    max_page_limit: int = 100
    # Absolute base for next_link; when empty, the request's own scheme and host.
    public_url: str = ""
    # SQLite: milliseconds a writer waits for the lock before giving up.
    sqlite_busy_timeout_ms: int = 5000
    # PostgreSQL: connections kept open per server process (as many again may burst).
    database_pool_size: int = 5
    # Threads per process for lookups that take milliseconds (each holds up to two
    # connections, which the pool makes room for).
    read_threads: int = 4
    # Server processes for `serve`.
    workers: int = 1
    # Seconds a valid key is remembered per process (0: look it up every time);
    # a key revoked elsewhere stops working within this.
    key_cache_seconds: int = 5
    # Requests per API key (limits' notation, e.g. "6000/minute"; empty: no limit).
    rate_limit: str = "6000/minute"
    # Failed authentications per client address before it is answered 429.
    auth_failure_limit: str = "60/minute"
    # Where rate-limit counts live: empty for this process, or redis://host:port/db
    # to share them across processes and hosts.
    redis_url: str = ""
    # One log line per request (uvicorn's access log); access_token is redacted.
    access_log: bool = True

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with every non-None override applied."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def as_environ(settings: Settings) -> dict[str, str]:
    """The PHONEBOOK_* variables that load_settings turns back into these settings.

    How `serve --workers N` hands its settings to worker processes.
    """
    return {f"PHONEBOOK_{f.name.upper()}": str(getattr(settings, f.name)) for f in fields(settings)}


def _coerce(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"PHONEBOOK_{name.upper()} must be an integer, got {raw!r}") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"PHONEBOOK_{name.upper()} must be a number, got {raw!r}") from None
    return raw


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from PHONEBOOK_<FIELD> variables, then explicit overrides (flags)."""
    env = os.environ if environ is None else environ
    base = Settings()
    from_env: dict[str, Any] = {}
    for field in fields(Settings):
        raw = env.get(f"PHONEBOOK_{field.name.upper()}")
        if raw is not None and raw != "":
            from_env[field.name] = _coerce(field.name, raw, getattr(base, field.name))
    return replace(base, **from_env).with_overrides(**overrides)
