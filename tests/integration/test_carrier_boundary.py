"""Hostile or malformed carrier input: a clear 4xx (or, on SNS, a refused record) and
nothing changed. Status events naming an inbound message, numbers that are not exactly
E.164, and Twilio webhook URLs whose query the signature covers verbatim."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.container import Container
from functions.core.errors import InvalidPhoneNumberError, NotOutboundError
from functions.core.models import Direction, MessageRef, MessageStatus
from functions.handlers import delivery_events, inbound_sns, twilio_webhook
from local.apigw import LambdaContext
from tests.builders import (
    PUBLIC_BASE_URL,
    aws_delivery,
    sns_inbound,
    twilio_inbound_form,
    twilio_post,
)
from tests.integration.conftest import TWILIO_AUTH_TOKEN, Messaging
from tests.phi_samples import BODY, BUSINESS_NUMBER, CLIENT_PHONE
from tests.phone_samples import NOT_E164_FROM_A_CARRIER

pytestmark = pytest.mark.integration

CONTEXT = LambdaContext("test")
SMS_PATH, STATUS_PATH = "/webhooks/twilio/sms", "/webhooks/twilio/status"
NOT_E164 = pytest.mark.parametrize(
    "number", NOT_E164_FROM_A_CARRIER.values(), ids=NOT_E164_FROM_A_CARRIER.keys()
)


def _items(messaging: Messaging) -> list[dict[str, Any]]:
    return list(messaging.table.scan()["Items"])


def _only_message(messaging: Messaging) -> tuple[MessageRef, dict[str, Any]]:
    (item,) = [i for i in _items(messaging) if str(i["sk"]).startswith("MSG#")]
    return MessageRef(item["tenant_id"], item["conversation_id"], item["message_id"]), item


def _twilio_inbound(messaging: Messaging, sid: str) -> None:
    form = twilio_inbound_form(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY)
    form.update(MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    event = twilio_post(SMS_PATH, form, TWILIO_AUTH_TOKEN)
    assert messaging.bound(twilio_webhook)(event, CONTEXT)["statusCode"] == 200


def _twilio_status(sid: str, status: str = "failed", **extra: str) -> dict[str, Any]:
    form = {
        "MessageSid": sid,
        "MessageStatus": status,
        "ErrorCode": "30003",
        "AccountSid": "AC1",
        "To": CLIENT_PHONE,
        "From": BUSINESS_NUMBER,
        **extra,
    }
    return twilio_post(STATUS_PATH, form, TWILIO_AUTH_TOKEN)


# --- status events never touch an inbound message -------------------------------------------
def test_given_an_inbound_message_when_the_store_is_asked_to_advance_it_then_nothing_changes(
    messaging: Messaging,
) -> None:
    _twilio_inbound(messaging, "SMinbound1")
    ref, before = _only_message(messaging)

    with pytest.raises(NotOutboundError):
        messaging.store.advance_status(
            ref,
            MessageStatus.FAILED,
            at="2026-11-30T15:00:01.000Z",
            carrier="twilio",
            carrier_message_id="SMinbound1",
            failure_reason="twilio:30003",
        )

    assert _only_message(messaging) == (ref, before)


@pytest.mark.parametrize("status", ["failed", "undelivered", "sent", "delivered"])
def test_given_a_signed_twilio_status_carrying_an_inbound_sid_then_it_is_acked_and_counted(
    messaging: Messaging, status: str
) -> None:
    _twilio_inbound(messaging, "SMinbound2")
    before = _items(messaging)

    response = messaging.bound(twilio_webhook)(_twilio_status("SMinbound2", status), CONTEXT)

    assert response["statusCode"] == 200
    assert _items(messaging) == before
    _, item = _only_message(messaging)
    assert (item["direction"], item["status"]) == (Direction.INBOUND, MessageStatus.RECEIVED)
    assert messaging.metrics.counts["StatusForInboundMessage"] == 1


def test_given_an_aws_delivery_event_for_an_inbound_message_then_it_is_acked_and_counted(
    messaging: Messaging,
) -> None:
    event = sns_inbound(
        from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY, inbound_id="in-aws-1"
    )
    messaging.bound(inbound_sns)(event, CONTEXT)
    ref, _ = _only_message(messaging)
    before = _items(messaging)

    # By its carrier id, and by our own reference in the event's context.
    by_carrier_id = aws_delivery(None, "in-aws-1", "TEXT_BLOCKED")
    by_reference = aws_delivery(ref, "in-aws-1", "TEXT_CARRIER_BLOCKED")

    for delivery in (by_carrier_id, by_reference):
        assert messaging.bound(delivery_events)(delivery, CONTEXT) == {"outcome": "inbound"}
    assert _items(messaging) == before
    assert messaging.metrics.counts["StatusForInboundMessage"] == 2


# --- strict E.164 at the carrier boundary ----------------------------------------------------
@NOT_E164
@pytest.mark.parametrize(("param", "field"), [("From", "from"), ("To", "to")])
def test_given_a_twilio_inbound_number_not_in_exact_e164_then_400_names_the_field(
    messaging: Messaging, number: str, param: str, field: str
) -> None:
    form = twilio_inbound_form(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY)
    form[param] = number
    before = _items(messaging)

    response = messaging.bound(twilio_webhook)(
        twilio_post(SMS_PATH, form, TWILIO_AUTH_TOKEN), CONTEXT
    )

    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"error": f"malformed webhook: {field}"}
    assert _items(messaging) == before


@NOT_E164
def test_given_a_twilio_status_recipient_not_in_exact_e164_then_400_names_the_field(
    messaging: Messaging, number: str
) -> None:
    response = messaging.bound(twilio_webhook)(
        _twilio_status("SMout1", "delivered", To=number), CONTEXT
    )

    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"error": "malformed webhook: to"}


@NOT_E164
def test_given_an_sns_inbound_number_not_in_exact_e164_then_the_record_is_refused(
    messaging: Messaging, number: str
) -> None:
    # Raised, so Lambda's async retries end in the function's DLQ (local mode answers 400).
    event = sns_inbound(from_number=number, to_number=BUSINESS_NUMBER, body=BODY)
    before = _items(messaging)

    with pytest.raises(InvalidPhoneNumberError) as caught:
        messaging.bound(inbound_sns)(event, CONTEXT)

    assert caught.value.field == "from"
    assert _items(messaging) == before


# --- the signed URL is the one configured in Twilio ---------------------------------------
CONSOLE_QUERY = "tenant=harbor&next=/inbox/new&label=front%20desk&at=09:30&tag=a+b&tenant=x"


def _webhook_with(messaging: Messaging, *webhook_urls: str) -> Any:
    settings = messaging.runtime.settings.model_copy(update={"twilio_webhook_urls": webhook_urls})
    runtime = Container(settings, clients=messaging.runtime.clients, ports=messaging.runtime.ports)
    return twilio_webhook.handler.bound(runtime)


def _signed_inbound(query: str) -> dict[str, Any]:
    form = twilio_inbound_form(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY)
    return twilio_post(SMS_PATH, form, TWILIO_AUTH_TOKEN, query=query)


def test_given_a_console_url_with_an_awkward_query_when_twilio_calls_then_it_is_stored(
    messaging: Messaging,
) -> None:
    webhook = _webhook_with(messaging, f"{PUBLIC_BASE_URL}{SMS_PATH}?{CONSOLE_QUERY}")
    event = _signed_inbound(CONSOLE_QUERY)
    # API Gateway does not keep the parameters' order.
    multi = event["multiValueQueryStringParameters"]
    event["multiValueQueryStringParameters"] = dict(reversed(multi.items()))

    assert webhook(event, CONTEXT)["statusCode"] == 200
    _, item = _only_message(messaging)
    assert item["direction"] == Direction.INBOUND


def test_given_a_console_url_when_the_query_is_altered_in_flight_then_403_and_nothing_stored(
    messaging: Messaging,
) -> None:
    webhook = _webhook_with(messaging, f"{PUBLIC_BASE_URL}{SMS_PATH}?{CONSOLE_QUERY}")
    event = _signed_inbound(CONSOLE_QUERY)
    event["multiValueQueryStringParameters"]["next"] = ["/elsewhere"]
    event["queryStringParameters"]["next"] = "/elsewhere"

    assert webhook(event, CONTEXT)["statusCode"] == 403
    assert not [i for i in _items(messaging) if str(i["sk"]).startswith("MSG#")]
