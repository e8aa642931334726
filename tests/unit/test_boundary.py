"""The input boundary (functions/handlers/_boundary.py): what it refuses, with which status."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from functions.core.errors import ValidationError
from functions.handlers import _boundary
from tests.phi_samples import BODY, CLIENT_PHONE

pytestmark = pytest.mark.unit


def _event(body: str | None, content_type: str | None = "application/json", **extra: Any) -> Any:
    headers = {} if content_type is None else {"content-type": content_type}
    return {"headers": headers, "body": body, "isBase64Encoded": False, **extra}


def _refusal(event: Any) -> tuple[int, str, str]:
    with pytest.raises(ValidationError) as refused:
        _boundary.json_body(event)
    return _boundary.status_of(refused.value), refused.value.field, refused.value.problem


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_json_object_passes_and_is_parsed_once_checked() -> None:
    sent = {"body": BODY, "emoji": "\U0001f600", "nested": [{"a": [1, 2.5, None, True]}]}

    assert _boundary.json_body(_event(json.dumps(sent))) == sent


def test_no_body_is_none_whatever_the_content_type() -> None:
    assert _boundary.json_body(_event(None, "text/plain")) is None
    assert _boundary.json_body(_event("", None)) is None


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_event("{}", None), (415, "Content-Type")),
        (_event("{}", "text/plain"), (415, "Content-Type")),
        (_event("{}", "APPLICATION/JSON"), (415, "Content-Type")),
        (_event("{}", "application/json; charset=latin-1"), (415, "Content-Type")),
        (_event("x" * (_boundary.MAX_JSON_BYTES + 1)), (413, "body")),
        (_event("e30=!", isBase64Encoded=True), (400, "body")),
        (_event(base64.b64encode(b'{"a": "\xff"}').decode(), isBase64Encoded=True), (400, "body")),
        (_event('{"a": "\udcff"}'), (400, "body")),  # undecodable bytes, as Python sees them
        (_event(f"name={BODY}"), (422, "body")),
        (_event(_nested(_boundary.MAX_JSON_DEPTH + 1)), (422, "body")),
        (_event(_nested(10_000)), (422, "body")),
        (_event('{"a": "\\ud800"}'), (422, "body")),
        (_event('{"\\udc00": 1}'), (422, "body")),
        (_event('{"a": 1, "a": 2}'), (422, "body")),
        (_event("[NaN]"), (422, "body")),
    ],
    ids=[
        "no type",
        "text",
        "upper case",
        "latin-1",
        "too large",
        "bad base64",
        "not utf-8",
        "surrogate-escaped text",
        "form body",
        "one level too deep",
        "10,000 deep",
        "lone surrogate",
        "lone surrogate key",
        "duplicate key",
        "NaN",
    ],
)
def test_hostile_bodies_are_refused_naming_the_field(event: Any, expected: tuple[int, str]) -> None:
    status, field, problem = _refusal(event)

    assert (status, field) == expected
    assert BODY not in problem and CLIENT_PHONE not in problem


def test_the_deepest_allowed_document_and_a_surrogate_pair_pass() -> None:
    depth = _boundary.MAX_JSON_DEPTH

    assert _boundary.json_body(_event(_nested(depth))) == json.loads(_nested(depth))
    assert _boundary.json_body(_event('["\\ud83d\\ude00"]')) == ["\U0001f600"]


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    text = json.dumps({"body": "[" * 100 + '\\"{' * 50})

    assert _boundary.json_body(_event(text)) == json.loads(text)


def test_a_base64_body_is_checked_after_decoding() -> None:
    encoded = base64.b64encode(json.dumps({"code": "123456"}).encode()).decode()

    assert _boundary.json_body(_event(encoded, isBase64Encoded=True)) == {"code": "123456"}


def test_a_form_body_needs_the_form_type_and_utf_8() -> None:
    form = "From=%2B12065550142&Body=hi"
    as_form = _event(form, "application/x-www-form-urlencoded; charset=utf-8")

    assert _boundary.form_body(as_form, max_bytes=1024) == form.encode()
    with pytest.raises(ValidationError) as refused:
        _boundary.form_body(_event(form), max_bytes=1024)
    assert _boundary.status_of(refused.value) == 415


@pytest.mark.parametrize(
    "event",
    [[], {}, {"Records": "x"}, {"Records": [1]}, {"Records": [{"Sns": {"Message": 5}}]}],
    ids=["a list", "no records", "records not a list", "record not an object", "message not text"],
)
def test_a_malformed_sns_event_is_a_validation_error(event: Any) -> None:
    with pytest.raises(ValidationError):
        _boundary.sns_records(event)


def test_sns_messages_are_checked_as_json_before_any_is_used() -> None:
    good = {"Sns": {"Message": json.dumps({"messageBody": BODY})}}
    deep = {"Sns": {"Message": _nested(10_000)}}

    assert _boundary.sns_records({"Records": [good]}) == [good]
    with pytest.raises(ValidationError) as refused:
        _boundary.sns_records({"Records": [good, deep]})
    assert refused.value.field == "Sns.Message"
