"""Hostile request bodies for the fuzz tests (hypothesis strategies), PHI samples mixed in."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.phi_samples import BODY, CLIENT_PHONE, PHI_VALUES

DEEP_ARRAY = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
LONE_SURROGATE = '{"code": "\\ud800", "body": "\\ud800"}'
HOSTILE_TEXTS = (
    DEEP_ARRAY,
    DEEP_OBJECT,
    LONE_SURROGATE,
    '{"body": "Running late \\udc00"}',
    '{"\\udfff": "x"}',
    '{"code": "123456", "code": "654321"}',
    '{"body": "a", "body": "b"}',
    '{"body": NaN}',
    '{"code": Infinity}',
    "x" * 200_000,
    json.dumps({"body": "y" * 100_000}),
    '"' * 5_000,
    "{" * 5_000,
    "",
    "null",
    "[]",
    "{",
    f"name={BODY}&phone={CLIENT_PHONE}",
)
NOT_UTF8 = b'{"code": "\xc3\x28", "body": "\xff"}'
INVALID_UTF8 = (b"\xff\xfe\xfd", NOT_UTF8, b'{"body": "\xed\xa0\x80"}', b"\x80" * 64)
CONTENT_TYPES = (
    None,
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json; charset=latin-1",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
)

phi_text = st.one_of(st.text(max_size=40), st.sampled_from(PHI_VALUES))
json_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), phi_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(phi_text, inner, max_size=4)
    ),
    max_leaves=10,
)
_field_names = st.sampled_from(["code", "body", "name", "phone_number", "consent", "mode"])
texts = st.one_of(
    st.sampled_from(HOSTILE_TEXTS),
    st.text(max_size=200),
    json_values.map(json.dumps),
    st.dictionaries(_field_names, json_values, max_size=4).map(json.dumps),
)
# Text as UTF-8 (a lone surrogate as the bytes no UTF-8 decoder accepts), or raw bytes.
bodies = st.one_of(
    texts.map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=300),
    st.sampled_from(INVALID_UTF8),
)
