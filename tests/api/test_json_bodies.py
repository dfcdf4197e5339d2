"""Request bodies are read as the standard library reads JSON (api.requests.parse_json)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from phonebook.api.requests import parse_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too, which orjson refuses
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _standard(raw: bytes) -> tuple[str, Any]:
    def refuse(name: str) -> Any:
        raise ValueError(name)

    try:
        return "value", json.loads(raw, parse_constant=refuse)
    except ValueError:
        return "refused", None


def _ours(raw: bytes) -> tuple[str, Any]:
    try:
        return "value", parse_json(raw)
    except ValueError:
        return "refused", None


@given(json_values, st.sampled_from(["utf-8", "utf-16", "utf-32"]), st.booleans())
def test_any_json_document_reads_as_the_standard_library_reads_it(
    value: Any, encoding: str, ascii_only: bool
) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode(encoding, "surrogatepass")
    assert _ours(raw) == _standard(raw)


# Bytes of any kind, and text made of JSON's own characters (NaN and Infinity's too).
json_ish = st.text(alphabet='{}[]":,.-+eE0123456789 \\ntrufalsNIiy').map(str.encode)


@given(st.binary(max_size=40) | json_ish)
@example(b'{"a": NaN}')
@example(b"-Infinity")
@example(b'"\\ud800"')  # a lone surrogate: orjson refuses it, json.loads does not
@example(b"\xef\xbb\xbf{}")  # a UTF-8 byte order mark
@example(b'{"a": 1, "a": 2}')
@example(b"123456789012345678901234567890")
@example(b"1e400")
def test_any_bytes_read_or_fail_as_with_the_standard_library(raw: bytes) -> None:
    assert _ours(raw) == _standard(raw)
