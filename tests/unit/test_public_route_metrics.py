"""Public routes count their refusals in their own EMF metrics: names only, no token, no
number, no body; and nothing a staff alarm watches (the staff stage's 5xx, the staff
API's code metrics) is what a junk or forged public request produces."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from functions.container import Container, Ports
from functions.core.errors import ValidationError
from functions.core.settings import Settings
from functions.handlers import inbound_sns, secure_link, twilio_webhook
from infra.constructs.staff_api import UNUSUAL_READ_METRIC
from local.apigw import LambdaContext
from tests.phi_samples import CLIENT_PHONE

pytestmark = pytest.mark.unit

TOKEN = "Zk9uZS10b2tlbi1ub3QtaW4tYW55LWxvZw"  # what must never reach a metric


def _emf(output: str) -> list[dict[str, Any]]:
    """The EMF documents Powertools printed: one JSON line each, with an "_aws" key."""
    return [
        document
        for line in output.splitlines()
        if line.startswith("{") and "_aws" in (document := json.loads(line))
    ]


def _metric_names(documents: list[dict[str, Any]]) -> set[str]:
    return {
        metric["Name"]
        for document in documents
        for directive in document["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }


def _dimensions(documents: list[dict[str, Any]]) -> list[list[str]]:
    return [
        dimension_set
        for document in documents
        for directive in document["_aws"]["CloudWatchMetrics"]
        for dimension_set in directive["Dimensions"]
    ]


def _secure_request(step: str, body: str) -> dict[str, Any]:
    handler = secure_link.handler.bound(
        Container(
            Settings(
                table_name="t",
                audit_table_name="a",
                outbound_queue_url="https://q.example",
                secure_link_base_url="https://inbox.example",
            )
        )
    )
    event = {
        "resource": "/secure/{token}/" + step,
        "path": f"/secure/{TOKEN}/{step}",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "pathParameters": {"token": TOKEN},
        "requestContext": {"requestId": "r-1", "identity": {"sourceIp": "203.0.113.5"}},
        "body": body,
        "isBase64Encoded": False,
    }
    response: dict[str, Any] = handler(event, LambdaContext("secure"))
    return response


def test_a_junk_secure_link_request_counts_as_a_malformed_refusal_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a client-side request whose body is not the one field the step takes
    junk = json.dumps({"code": "12", "phone": CLIENT_PHONE})

    # When the secure-link function answers it
    response = _secure_request("verify", junk)
    documents = _emf(capsys.readouterr().out)

    # Then it is a 4xx (the client's fault), counted once under the public refusal metric
    assert response["statusCode"] == 422
    assert _metric_names(documents) == {"SecureLinkRefusedMalformed"}
    assert [d["SecureLinkRefusedMalformed"] for d in documents] == [[1.0]]
    # And not under anything a staff alarm watches
    assert UNUSUAL_READ_METRIC not in _metric_names(documents)
    # And the metric carries the service only: no token, no number, no body
    assert _dimensions(documents) == [["service"]]
    emitted = json.dumps(documents)
    assert TOKEN not in emitted and CLIENT_PHONE not in emitted and '"12"' not in emitted


def test_an_unreadable_secure_link_body_counts_as_malformed_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    response = _secure_request("reply", "x" * (70 * 1024))

    assert response["statusCode"] == 413
    assert _metric_names(_emf(capsys.readouterr().out)) == {"SecureLinkRefusedMalformed"}


def _twilio_request(signature: str) -> dict[str, Any]:
    runtime = Container(
        Settings(
            carrier="twilio",
            table_name="t",
            retry_queue_url="https://q.example/retry",
            outbound_queue_url="https://q.example/out",
            public_base_url="https://hooks.example",
        ),
        ports=Ports(twilio_auth_token="the-real-token"),
    )
    form = f"From={CLIENT_PHONE}&Body=hello&MessageSid=SM1"
    event = {
        "resource": "/webhooks/twilio/sms",
        "path": "/webhooks/twilio/sms",
        "httpMethod": "POST",
        "headers": {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
        "requestContext": {"domainName": "hooks.example", "path": "/prod/webhooks/twilio/sms"},
        "body": base64.b64encode(form.encode()).decode(),
        "isBase64Encoded": True,
    }
    response: dict[str, Any] = twilio_webhook.handler.bound(runtime)(event, LambdaContext("tw"))
    return response


def test_a_forged_twilio_webhook_counts_as_a_signature_rejection(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a webhook signed with some other key
    forged = base64.b64encode(b"x" * 20).decode()

    # When the webhook function checks it
    response = _twilio_request(forged)
    documents = _emf(capsys.readouterr().out)

    # Then 403, nothing stored, counted under the public webhook metric, no number in it
    assert response["statusCode"] == 403
    assert _metric_names(documents) == {"WebhookSignatureRejected"}
    assert _dimensions(documents) == [["service"]]
    assert CLIENT_PHONE not in json.dumps(documents)


def test_a_malformed_sns_inbound_is_counted_before_it_is_retried(
    capsys: pytest.CaptureFixture[str],
) -> None:
    runtime = Container(
        Settings(table_name="t", outbound_queue_url="https://q.example", retry_queue_url="r")
    )
    event = {"Records": [{"Sns": {"Message": '{"originationNumber": "' + CLIENT_PHONE}}]}

    with pytest.raises(ValidationError):
        inbound_sns.handler.bound(runtime)(event, LambdaContext("inbound"))

    documents = _emf(capsys.readouterr().out)
    assert _metric_names(documents) == {"InboundSnsMalformed"}
    assert CLIENT_PHONE not in json.dumps(documents)
