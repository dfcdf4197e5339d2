"""The access log never shows an API key."""

from __future__ import annotations

import logging

from phonebook.access_log import RedactKeys, redact


def test_redact_hides_every_access_token() -> None:
    assert redact("/a?access_token=pb_secret&limit=5") == "/a?access_token=***&limit=5"
    assert redact("/a?limit=5&ACCESS_TOKEN=pb_x") == "/a?limit=5&ACCESS_TOKEN=***"
    assert redact("/a?limit=5") == "/a?limit=5"


def test_the_filter_rewrites_uvicorn_access_records() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/api/v1/constituents?access_token=pb_secret", "1.1", 200),
        None,
    )
    assert RedactKeys().filter(record)
    assert "pb_secret" not in record.getMessage()
