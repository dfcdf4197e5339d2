"""Keeps API keys out of the server's access log."""

from __future__ import annotations

import logging
import re

_TOKEN = re.compile(r"(access_token=)[^&\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with every access_token query value replaced by ***."""
    return _TOKEN.sub(r"\1***", text)


class RedactKeys(logging.Filter):
    """uvicorn logs the full request path, query string included: redact it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    logging.getLogger("uvicorn.access").addFilter(RedactKeys())
