"""The secure page's request bodies: a code or a reply, one string field each, else 422.

Malformed bodies are refused before any service is asked (no AWS), and the answer names
the field and the rule, never what was sent.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from functions.container import Container
from functions.core.settings import Settings
from functions.handlers import secure_link
from local.apigw import LambdaContext

pytestmark = pytest.mark.unit

TOKEN = "t" * 32


# Names only: a refused body never reaches a table, queue or key.
SETTINGS = Settings(
    table_name="t",
    audit_table_name="a",
    outbound_queue_url="https://q.example",
    secure_link_base_url="https://inbox.example",
)


def _answer(
    step: str,
    body: str | None,
    *,
    base64_encoded: bool = False,
    settings: Settings = SETTINGS,
) -> dict[str, Any]:
    path = f"/secure/{TOKEN}/{step}"
    event = {
        "resource": "/secure/{token}/" + step,
        "path": path,
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "pathParameters": {"token": TOKEN},
        "requestContext": {"requestId": "r-1", "identity": {"sourceIp": "203.0.113.5"}},
        "body": base64.b64encode(body.encode()).decode() if base64_encoded and body else body,
        "isBase64Encoded": base64_encoded,
    }
    handler = secure_link.handler.bound(Container(settings))
    response: dict[str, Any] = handler(event, LambdaContext("secure"))
    return response


def _post(step: str, body: str | None, *, base64_encoded: bool = False) -> tuple[int, Any]:
    response = _answer(step, body, base64_encoded=base64_encoded)
    return response["statusCode"], json.loads(response["body"])


def _headers(response: dict[str, Any]) -> dict[str, str]:
    merged = dict(response.get("headers") or {})
    merged.update({k: ", ".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()})
    return merged


def test_the_inbox_origin_may_read_every_answer_including_refusals() -> None:
    """The page is on the inbox's origin, the API on its own: a 422 must be readable too."""
    with_origin = SETTINGS.model_copy(update={"inbox_origin": "https://inbox.harbor.example"})
    response = _answer("verify", "{}", settings=with_origin)
    headers = _headers(response)
    assert response["statusCode"] == 422
    assert headers["Access-Control-Allow-Origin"] == "https://inbox.harbor.example"
    assert headers["Vary"] == "Origin" and headers["Cache-Control"] == "no-store"


def test_without_an_inbox_origin_no_origin_may_read_answers() -> None:
    headers = _headers(_answer("verify", "{}"))
    assert "Access-Control-Allow-Origin" not in headers and headers["Cache-Control"] == "no-store"


def _field(answer: Any) -> str:
    (error,) = answer["errors"]
    return str(error["field"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (None, "body"),
        ("not json", "body"),
        ('["123456"]', "body"),
        ('{"code": "123456", "note": "hello"}', "body"),
        ("{}", "code"),
        ('{"code": 123456}', "code"),
        ('{"code": "123"}', "code"),
        ('{"code": "1234567890123"}', "code"),
    ],
)
def test_given_a_malformed_code_when_verifying_then_422_naming_the_field(
    body: str | None, field: str
) -> None:
    status, answer = _post("verify", body)

    assert status == 422
    assert answer["error"] == "invalid request"
    assert _field(answer) == field


@pytest.mark.parametrize(
    "body", ['{"body": ""}', json.dumps({"body": "x" * 1601}), '{"body": null}']
)
def test_given_an_empty_or_oversized_reply_then_422(body: str) -> None:
    status, answer = _post("reply", body)

    assert status == 422
    assert _field(answer) == "body"


def test_a_base64_encoded_body_is_decoded_before_it_is_checked() -> None:
    status, answer = _post("verify", '{"code": "12"}', base64_encoded=True)

    assert (status, _field(answer)) == (422, "code")


def test_the_answer_never_echoes_what_was_sent() -> None:
    sent = '{"code": "12", "my note": "call me at home"}'

    status, answer = _post("verify", sent)

    assert status == 422
    assert "my note" not in json.dumps(answer) and "call me" not in json.dumps(answer)
