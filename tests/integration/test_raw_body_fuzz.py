"""Hostile raw bodies at every webhook, the secure-message page, the SNS path and the staff API.

Bodies: random bytes, invalid UTF-8, lone surrogates, JSON nested 10,000 deep, huge bodies,
duplicate keys, NaN; sent with and without the base64 flag (and with broken base64), under
right, wrong and missing Content-Types. An HTTP entry point answers each with a 4xx (or its
success) and never a 5xx, a traceback or an echo of PHI; a refusal stores nothing. The SNS
path raises a ValidationError for what it cannot take (so Lambda retries it into the DLQ),
never another exception type, and stores nothing either.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from functions.core.errors import ValidationError
from functions.handlers import api, inbound_sns, secure_link, sender, twilio_webhook
from local.apigw import LambdaContext
from local.identity import LocalPool
from tests.builders import sns_inbound, twilio_inbound_form, twilio_post
from tests.conftest import phi_found
from tests.integration.api_harness import Caller, call
from tests.integration.conftest import TWILIO_AUTH_TOKEN, Messaging, StaffApi, build_staff_api
from tests.integration.hostile import (
    CONTENT_TYPES,
    DEEP_ARRAY,
    DEEP_OBJECT,
    LONE_SURROGATE,
    NOT_UTF8,
    bodies,
    json_values,
    texts,
)
from tests.phi_samples import BODY, BUSINESS_NUMBER, CLIENT_PHONE, PHI_VALUES

pytestmark = pytest.mark.integration

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Transport:
    """How API Gateway hands the body on: its Content-Type, and whether base64-encoded."""

    content_type: str | None
    header_name: str
    base64: bool
    broken_base64: bool

    def encode(self, body: bytes) -> tuple[str | None, bool]:
        if not body:
            return None, self.base64
        if self.base64:
            encoded = base64.b64encode(body).decode()
            return (encoded[:-1] + "!" if self.broken_base64 else encoded), True
        # A text body that is not UTF-8 reaches Python as lone surrogates.
        return body.decode("utf-8", "surrogateescape"), False

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        found = {} if self.content_type is None else {self.header_name: self.content_type}
        return {**found, **(extra or {})}


AS_JSON = Transport("application/json", "Content-Type", base64=False, broken_base64=False)
AS_BASE64_JSON = Transport("application/json", "content-type", base64=True, broken_base64=False)
AS_BROKEN_BASE64 = Transport("application/json", "Content-Type", base64=True, broken_base64=True)
AS_TEXT = Transport("text/plain", "Content-Type", base64=False, broken_base64=False)
AS_FORM = Transport(
    "application/x-www-form-urlencoded", "Content-Type", base64=True, broken_base64=True
)
_transports = st.builds(
    Transport,
    content_type=st.sampled_from(CONTENT_TYPES),
    header_name=st.sampled_from(["Content-Type", "content-type"]),
    base64=st.booleans(),
    broken_base64=st.booleans(),
)


def proxy_event(
    method: str,
    resource: str,
    body: bytes,
    transport: Transport,
    *,
    path_parameters: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    path = resource
    for name, value in (path_parameters or {}).items():
        path = path.replace("{" + name + "}", value)
    text, is_base64 = transport.encode(body)
    all_headers = transport.headers(headers)
    context: dict[str, Any] = {
        "resourcePath": resource,
        "httpMethod": method,
        "path": f"/prod{path}",
        "domainName": "abc.execute-api.us-east-1.amazonaws.com",
        "stage": "prod",
        "requestId": str(uuid.uuid4()),
        "identity": {"sourceIp": "203.0.113.9"},
    }
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers or None,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()} or None,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": is_base64,
    }


def _stored(table: Any) -> int:
    return int(table.scan(Select="COUNT")["Count"])


class Witness:
    """What one request left behind: items in the message table, and log records."""

    def __init__(self, table: Any, caplog: pytest.LogCaptureFixture) -> None:
        self.table, self.caplog, self.before = table, caplog, 0

    def begin(self) -> None:
        self.caplog.clear()
        self.before = _stored(self.table)

    def nothing_stored(self) -> bool:
        return _stored(self.table) == self.before

    def assert_answer(self, response: dict[str, Any], allowed: set[int]) -> None:
        status, text = int(response["statusCode"]), str(response.get("body") or "")
        assert status in allowed, (status, text)
        assert "Traceback" not in text and 'File "' not in text
        if status >= 400:
            assert phi_found(text) == [], "a refusal echoed PHI"
            assert self.nothing_stored(), "a refusal stored data"
        self.assert_quiet_logs()

    def assert_quiet_logs(self) -> None:
        for record in self.caplog.records:
            assert record.exc_info is None, "a traceback was logged"
            assert record.levelno < logging.ERROR, record.getMessage()
        assert "Traceback" not in self.caplog.text


@pytest.fixture
def witness(messaging: Messaging, caplog: pytest.LogCaptureFixture) -> Witness:
    caplog.set_level(logging.INFO)
    return Witness(messaging.table, caplog)


CONTEXT = LambdaContext("fuzz")
REFUSED = {400, 401, 403, 404, 410, 413, 415, 422, 423}


# --- Twilio webhooks ------------------------------------------------------------------------
TWILIO_PATHS = ("/webhooks/twilio/sms", "/webhooks/twilio/status")


@pytest.mark.parametrize("path", TWILIO_PATHS)
@FUZZ
@example(body=b"From=%2B12065550142&Body=hi", transport=AS_FORM)  # broken base64
@example(body=NOT_UTF8, transport=AS_BASE64_JSON)
@given(body=bodies, transport=_transports)
def test_junk_at_a_twilio_webhook_is_refused_without_a_trace(
    messaging: Messaging, witness: Witness, path: str, body: bytes, transport: Transport
) -> None:
    event = proxy_event("POST", path, body, transport, headers={"Host": "quietline.example"})
    witness.begin()

    response = messaging.bound(twilio_webhook)(event, CONTEXT)

    # Unsigned: refused before any field is read, whatever the body.
    witness.assert_answer(response, {400, 403, 413, 415})


_form_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from([*PHI_VALUES, "", "+1", "SMxyz", "delivered", "failed", "30003", "2"]),
)
_twilio_fields = st.sampled_from(
    [
        "From",
        "To",
        "Body",
        "MessageSid",
        "SmsSid",
        "MessageStatus",
        "ErrorCode",
        "NumMedia",
        "AccountSid",
        "Extra",
    ]
)


@pytest.mark.parametrize("path", TWILIO_PATHS)
@FUZZ
@given(overrides=st.dictionaries(_twilio_fields, _form_values, max_size=4))
def test_a_signed_webhook_with_odd_fields_is_taken_or_refused_with_400(
    messaging: Messaging, witness: Witness, path: str, overrides: dict[str, str]
) -> None:
    form = twilio_inbound_form(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY)
    form.update(overrides)
    event = twilio_post(path, form, TWILIO_AUTH_TOKEN)
    witness.begin()

    response = messaging.bound(twilio_webhook)(event, CONTEXT)

    witness.assert_answer(response, {200, 400})


# --- End User Messaging (SNS) -----------------------------------------------------------------
def _message_json(fields: dict[str, Any]) -> str:
    base = json.loads(
        sns_inbound(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY)["Records"][0][
            "Sns"
        ]["Message"]
    )
    return json.dumps({**base, **fields})


_sns_fields = st.sampled_from(
    ["originationNumber", "destinationNumber", "messageBody", "inboundMessageId", "extra"]
)
_sns_messages = st.one_of(
    texts,
    st.dictionaries(_sns_fields, json_values, max_size=3).map(_message_json),
    texts.map(lambda text: _message_json({"messageBody": text})),
)
_sns_shapes = st.sampled_from(["event", "records", "record", "sns", "message"])


def _sns_event(message: str, shape: str) -> Any:
    event = sns_inbound(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY)
    # Broken at one level of the event's shape, or (shape "message") only in the message.
    if shape == "event":
        return [message]
    if shape == "records":
        return {"Records": message}
    if shape == "record":
        return {"Records": [message]}
    if shape == "sns":
        event["Records"][0]["Sns"] = message
    else:
        event["Records"][0]["Sns"]["Message"] = message
    return event


@FUZZ
@example(message=DEEP_ARRAY, shape="message")
@example(message=_message_json({"messageBody": "\ud800"}), shape="message")
@example(message='{"messageBody": "a", "messageBody": "b"}', shape="message")
@example(message="{}", shape="event")
@given(message=_sns_messages, shape=_sns_shapes)
def test_an_sns_record_is_stored_or_raises_a_validation_error_storing_nothing(
    messaging: Messaging, witness: Witness, message: str, shape: str
) -> None:
    event = _sns_event(message, shape)
    witness.begin()

    try:
        outcome = messaging.bound(inbound_sns)(event, CONTEXT)
    except ValidationError as refused:
        # Lambda retries the event into the DLQ; the error names a field, never its value.
        assert phi_found(str(refused)) == []
        assert witness.nothing_stored(), "a refused record stored data"
    else:
        assert shape == "message" and len(outcome["outcomes"]) == 1
    witness.assert_quiet_logs()


# --- The secure-message page ------------------------------------------------------------------
@pytest.fixture
def staff(messaging: Messaging, staff_pool: LocalPool) -> StaffApi:
    built = build_staff_api(
        messaging, staff_pool, secure_link_base_url="https://inbox.harbor.example"
    )
    # The admin's first request creates their session: made here, not by a fuzzed request.
    assert call(built.admin, "GET", "/me").status == 200
    return built


@pytest.fixture
def secure_token(staff: StaffApi) -> str:
    """A live secure link's token, as its text carries it to the client."""
    contact = staff.contact(staff.admin, CLIENT_PHONE, mode="secure_link")
    sent = call(
        staff.admin,
        "POST",
        "/conversations/{conversation_id}/messages",
        path_params={"conversation_id": contact},
        body={"body": BODY, "mode": "secure_link"},
    )
    assert sent.status == 202, sent.text
    event = staff.messaging.sqs_event(staff.messaging.outbound_url)
    staff.messaging.bound(sender)(event, CONTEXT)
    (notice,) = staff.messaging.carrier.outbox(CLIENT_PHONE)
    return notice.body.rsplit("#", 1)[-1]


SECURE_STEPS = (("POST", "challenge"), ("POST", "verify"), ("POST", "reply"), ("GET", "message"))


@pytest.mark.parametrize(("method", "step"), SECURE_STEPS, ids=[s for _, s in SECURE_STEPS])
@FUZZ
@example(body=NOT_UTF8, transport=AS_BASE64_JSON, session="")
@example(body=DEEP_OBJECT.encode(), transport=AS_JSON, session="")
@example(body=LONE_SURROGATE.encode(), transport=AS_JSON, session="")
@example(body=b"junk", transport=AS_BROKEN_BASE64, session="")
@given(body=bodies, transport=_transports, session=st.sampled_from(["", "junk", BODY]))
def test_junk_at_the_secure_page_is_refused_without_a_trace(
    staff: StaffApi,
    secure_token: str,
    witness: Witness,
    method: str,
    step: str,
    body: bytes,
    transport: Transport,
    session: str,
) -> None:
    event = proxy_event(
        method,
        "/secure/{token}/" + step,
        body,
        transport,
        path_parameters={"token": secure_token},
        headers={"X-Secure-Session": session} if session else None,
    )
    witness.begin()

    response = secure_link.handler.bound(staff.runtime)(event, CONTEXT)

    # A challenge (which texts a code) may succeed; nothing else can without a real code.
    witness.assert_answer(response, REFUSED | ({200} if step == "challenge" else set()))


# --- The staff API --------------------------------------------------------------------------
BODY_ROUTES = (
    ("POST", "/contacts", None),
    ("PATCH", "/contacts/{contact_id}", {"contact_id": "c-1"}),
    ("POST", "/templates", None),
    ("PUT", "/settings", None),
    ("POST", "/conversations/{conversation_id}/messages", {"conversation_id": "c-1"}),
    ("POST", "/users", None),
)


def _api_event(caller: Caller, route: tuple[str, str, Any], body: bytes, t: Transport) -> Any:
    method, resource, params = route
    return proxy_event(method, resource, body, t, path_parameters=params, claims=caller.claims)


@pytest.mark.parametrize("route", BODY_ROUTES, ids=[f"{m} {p}" for m, p, _ in BODY_ROUTES])
# An empty body labelled multipart reaches Powertools' form parser, which warns about binary
# uploads (there are none here) before the model refuses the empty form with a 422.
@pytest.mark.filterwarnings("ignore:Received multipart/form-data without base64 encoding")
@FUZZ
@example(body=NOT_UTF8, transport=AS_BASE64_JSON)
@example(body=DEEP_ARRAY.encode(), transport=AS_JSON)
@example(body=LONE_SURROGATE.encode(), transport=AS_JSON)
@example(body=b'{"name": "a", "body": "b"}', transport=AS_TEXT)
@given(body=bodies, transport=_transports)
def test_junk_at_the_staff_api_is_a_4xx_after_authentication(
    staff: StaffApi,
    witness: Witness,
    route: tuple[str, str, Any],
    body: bytes,
    transport: Transport,
) -> None:
    handler = api.handler.bound(staff.runtime)
    witness.begin()
    anonymous = handler(_api_event(staff.anonymous, route, body, transport), CONTEXT)
    witness.assert_answer(anonymous, {401})  # authenticated first: junk or not, 401

    witness.begin()
    admin = handler(_api_event(staff.admin, route, body, transport), CONTEXT)
    witness.assert_answer(admin, REFUSED | {200, 201, 202})
