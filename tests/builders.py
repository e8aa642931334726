"""Carrier events as the carriers send them, built from the JSON fixtures in tests/events/."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from functions.carriers.twilio import compute_signature
from functions.core.models import MessageRef
from local.apigw import query_parameters

EVENTS = Path(__file__).parent / "events"
PUBLIC_BASE_URL = "https://quietline.example"


def fixture(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def sns_inbound(
    *, from_number: str, to_number: str, body: str, inbound_id: str | None = None
) -> dict[str, Any]:
    event = fixture("aws_sns_inbound.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message.update(
        originationNumber=from_number,
        destinationNumber=to_number,
        messageBody=body,
        inboundMessageId=inbound_id or str(uuid.uuid4()),
    )
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return event


def aws_delivery(
    ref: MessageRef | None,
    carrier_id: str,
    event_type: str = "TEXT_DELIVERED",
    *,
    final: bool = True,
    timestamp_ms: int = 1_795_860_962_377,
) -> dict[str, Any]:
    event = fixture("aws_delivery_event.json")
    detail = event["detail"]
    detail.update(
        eventType=event_type, isFinal=final, messageId=carrier_id, eventTimestamp=timestamp_ms
    )
    detail["context"] = (
        {"quietline_message_id": ref.token(), "tenant_id": ref.tenant_id} if ref else {}
    )
    return event


def apigw_post(
    path: str, form: dict[str, str], *, signature: str | None, query: str | None = None
) -> dict[str, Any]:
    """A POST to `path` as API Gateway's Lambda proxy event; `query` is the raw query text."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Host": "quietline.example"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    single, multi = query_parameters(query or "")
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": single,
        "multiValueQueryStringParameters": multi,
        "pathParameters": None,
        "requestContext": {
            "path": f"/prod{path}",
            "domainName": "abc.execute-api.us-east-1.amazonaws.com",
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": urlencode(form),
        "isBase64Encoded": False,
    }


def twilio_post(
    path: str,
    form: dict[str, str],
    auth_token: str,
    *,
    query: str | None = None,
    sign_with: str | None = None,
    base_url: str = PUBLIC_BASE_URL,
) -> dict[str, Any]:
    """A webhook signed as Twilio signs it: the URL text exactly as configured (`query` is
    its raw query string) plus the sorted form fields."""
    url = base_url + path + (f"?{query}" if query else "")
    signature = compute_signature(sign_with or auth_token, url, form)
    return apigw_post(path, form, signature=signature, query=query)


def twilio_inbound_form(
    *, from_number: str, to_number: str, body: str, sid: str | None = None
) -> dict[str, str]:
    form = copy.deepcopy(fixture("twilio_inbound.json"))
    form.update(From=from_number, To=to_number, Body=body)
    sid = sid or f"SM{uuid.uuid4().hex}"
    form.update(MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    return {k: str(v) for k, v in form.items()}
