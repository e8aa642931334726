"""Carrier payloads -> typed records: AWS SNS inbound, AWS delivery events, Twilio webhooks."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from functions.carriers import aws_sms, twilio
from functions.carriers.models import InboundSms, OutboundSms
from functions.core.errors import InvalidPhoneNumberError, ValidationError
from functions.core.models import MessageStatus
from tests.phi_samples import BODY, BUSINESS_NUMBER, CLIENT_PHONE
from tests.phone_samples import NOT_E164_FROM_A_CARRIER

NOT_E164 = pytest.mark.parametrize(
    "number", NOT_E164_FROM_A_CARRIER.values(), ids=NOT_E164_FROM_A_CARRIER.keys()
)

pytestmark = pytest.mark.unit

EVENTS = Path(__file__).resolve().parent.parent / "events"
OUR_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def sns_message(**changes: Any) -> str:
    """The fixture's inner SNS message with fields replaced (None removes one)."""
    message = json.loads(load_event("aws_sns_inbound.json")["Records"][0]["Sns"]["Message"])
    for key, value in changes.items():
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value
    return json.dumps(message)


def delivery_event(name: str = "aws_delivery_event.json", **detail: Any) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(load_event(name))
    for key, value in detail.items():
        if value is None:
            event["detail"].pop(key, None)
        else:
            event["detail"][key] = value
    return event


# --- AWS inbound (SNS) ----------------------------------------------------------------
def test_given_the_sns_fixture_when_parsed_then_every_field_arrives_with_sns_publish_time() -> None:
    record = load_event("aws_sns_inbound.json")["Records"][0]

    sms = aws_sms.parse_sns_record(record)

    assert sms == InboundSms(
        carrier="aws",
        carrier_message_id="cae173d2-66b9-564c-8309-21f858e9fb84",
        from_number=CLIENT_PHONE,
        to_number=BUSINESS_NUMBER,
        body=BODY,
        received_at="2026-11-28T10:15:30.123Z",
    )


def test_given_no_timestamp_when_parsed_then_received_at_is_now_in_utc_milliseconds() -> None:
    before = datetime.now(UTC).replace(microsecond=0)

    sms = aws_sms.parse_sns_inbound(sns_message())

    assert OUR_TIMESTAMP.fullmatch(sms.received_at)
    received = datetime.fromisoformat(sms.received_at)
    assert before <= received <= datetime.now(UTC)


def test_given_a_timestamp_with_an_offset_when_parsed_then_it_is_stored_in_utc() -> None:
    sms = aws_sms.parse_sns_inbound(sns_message(), received_at="2026-11-28T02:15:30.5-08:00")

    assert sms.received_at == "2026-11-28T10:15:30.500Z"


@pytest.mark.parametrize("timestamp", ["yesterday", "2026-11-28T10:15:30", ""])
def test_given_an_unusable_timestamp_when_parsed_then_validation_fails(timestamp: str) -> None:
    with pytest.raises(ValidationError) as caught:
        aws_sms.parse_sns_inbound(sns_message(), received_at=timestamp)

    assert caught.value.field == "timestamp"


@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ("originationNumber", "from"),
        ("destinationNumber", "to"),
        ("messageBody", "body"),
        ("inboundMessageId", "carrier_message_id"),
    ],
)
def test_given_a_missing_field_when_parsed_then_validation_names_our_field(
    missing: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        aws_sms.parse_sns_inbound(sns_message(**{missing: None}))

    assert caught.value.field == field
    assert caught.value.problem == "is required"


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("originationNumber", 42, "from"),
        ("messageBody", ["a"], "body"),
        ("inboundMessageId", 7, "carrier_message_id"),
    ],
)
def test_given_a_field_of_the_wrong_type_when_parsed_then_validation_fails(
    key: str, value: Any, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        aws_sms.parse_sns_inbound(sns_message(**{key: value}))

    assert caught.value.field == field


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '"a string"'])
def test_given_a_message_that_is_not_a_json_object_when_parsed_then_validation_fails(
    raw: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        aws_sms.parse_sns_inbound(raw)

    assert caught.value.field == "message"


def test_given_a_malformed_sender_when_parsed_then_the_error_names_from_without_the_value() -> None:
    malformed = CLIENT_PHONE[:-4]

    with pytest.raises(InvalidPhoneNumberError) as caught:
        aws_sms.parse_sns_inbound(sns_message(originationNumber=malformed))

    assert caught.value.field == "from"
    assert malformed not in str(caught.value)


@NOT_E164
@pytest.mark.parametrize(
    ("payload_field", "field"), [("originationNumber", "from"), ("destinationNumber", "to")]
)
def test_given_a_number_not_in_exact_e164_when_an_sns_inbound_is_parsed_then_the_field_is_named(
    number: str, payload_field: str, field: str
) -> None:
    with pytest.raises(InvalidPhoneNumberError) as caught:
        aws_sms.parse_sns_inbound(sns_message(**{payload_field: number}))

    assert caught.value.field == field
    assert number not in str(caught.value)


def test_given_an_empty_body_when_parsed_then_it_is_kept_as_empty_text() -> None:
    assert aws_sms.parse_sns_inbound(sns_message(messageBody="")).body == ""


def test_given_an_sns_record_without_sns_when_parsed_then_validation_fails() -> None:
    with pytest.raises(ValidationError) as caught:
        aws_sms.parse_sns_record({"EventSource": "aws:sns"})

    assert caught.value.field == "Sns"


# --- AWS delivery events (EventBridge) --------------------------------------------------
def test_given_a_final_delivered_event_when_parsed_then_delivered_with_our_message_id() -> None:
    event = aws_sms.parse_delivery_event(delivery_event())

    assert event.carrier == "aws"
    assert event.carrier_message_id == "ed23196c-75ce-4727-93ee-7bf72b64998f"
    assert event.status is MessageStatus.DELIVERED
    assert event.message_id == "01JDQ3Z8Y5K2M4N6P8R0S2T4V6"
    assert event.reason is None
    assert event.occurred_at == "2026-11-28T10:16:02.377Z"


def test_given_a_final_successful_event_when_parsed_then_it_counts_as_delivered() -> None:
    event = aws_sms.parse_delivery_event(delivery_event(eventType="TEXT_SUCCESSFUL"))

    assert event.status is MessageStatus.DELIVERED


def test_given_the_blocked_fixture_when_parsed_then_failed_with_the_event_type_as_reason() -> None:
    event = aws_sms.parse_delivery_event(delivery_event("aws_delivery_event_blocked.json"))

    assert event.status is MessageStatus.FAILED
    assert event.reason == "TEXT_CARRIER_BLOCKED"


@pytest.mark.parametrize("event_type", sorted(aws_sms.FAILURE_EVENTS))
def test_given_a_final_failure_event_when_parsed_then_failed_with_its_type(event_type: str) -> None:
    event = aws_sms.parse_delivery_event(delivery_event(eventType=event_type))

    assert (event.status, event.reason) == (MessageStatus.FAILED, event_type)


def test_given_an_unknown_final_event_type_when_parsed_then_it_is_a_failure() -> None:
    event = aws_sms.parse_delivery_event(delivery_event(eventType="TEXT_SOMETHING_NEW"))

    assert (event.status, event.reason) == (MessageStatus.FAILED, "TEXT_SOMETHING_NEW")


@pytest.mark.parametrize(
    "event_type", ["TEXT_QUEUED", "TEXT_PENDING", "TEXT_CARRIER_UNREACHABLE", "TEXT_SUCCESSFUL"]
)
def test_given_a_non_final_event_when_parsed_then_only_sent_is_recorded(event_type: str) -> None:
    event = aws_sms.parse_delivery_event(delivery_event(eventType=event_type, isFinal=False))

    assert (event.status, event.reason) == (MessageStatus.SENT, None)


def test_given_the_bare_detail_when_parsed_then_it_reads_like_the_eventbridge_event() -> None:
    bare = delivery_event()["detail"]

    assert aws_sms.parse_delivery_event(bare) == aws_sms.parse_delivery_event(delivery_event())


def test_given_another_detail_type_when_parsed_then_validation_fails() -> None:
    event = delivery_event()
    event["detail-type"] = "Media Message Delivery Status Updated"

    with pytest.raises(ValidationError) as caught:
        aws_sms.parse_delivery_event(event)

    assert caught.value.field == "detail-type"


@pytest.mark.parametrize("context", [None, {}, {"quietline_message_id": ""}, "not a map"])
def test_given_no_usable_context_when_parsed_then_our_message_id_is_none(context: Any) -> None:
    event = delivery_event()
    event["detail"]["context"] = context

    assert aws_sms.parse_delivery_event(event).message_id is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"isFinal": None}, "isFinal"),
        ({"isFinal": "true"}, "isFinal"),
        ({"eventTimestamp": "1795860962377"}, "eventTimestamp"),
        ({"eventTimestamp": True}, "eventTimestamp"),
        ({"messageId": None}, "carrier_message_id"),
        ({"eventType": None}, "eventType"),
        ({"eventType": "delivered, probably"}, "eventType"),
    ],
)
def test_given_a_malformed_detail_when_parsed_then_validation_names_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        aws_sms.parse_delivery_event(delivery_event(**changes))

    assert caught.value.field == field


@NOT_E164
def test_given_a_recipient_not_in_exact_e164_when_a_delivery_event_is_parsed_then_refused(
    number: str,
) -> None:
    with pytest.raises(InvalidPhoneNumberError) as caught:
        aws_sms.parse_delivery_event(delivery_event(destinationPhoneNumber=number))

    assert caught.value.field == "destinationPhoneNumber"


def test_given_a_sender_id_as_origination_when_a_delivery_event_is_parsed_then_it_is_read() -> None:
    # Outside North America a text can go out under an alphanumeric sender id.
    event = aws_sms.parse_delivery_event(delivery_event(originationPhoneNumber="HARBOR"))

    assert event.status is MessageStatus.DELIVERED


# --- carrier-neutral records -----------------------------------------------------------
def test_given_e164_numbers_when_an_inbound_record_is_built_then_they_are_kept() -> None:
    sms = InboundSms("aws", "id-1", CLIENT_PHONE, BUSINESS_NUMBER, "", "t")

    assert (sms.from_number, sms.to_number) == (CLIENT_PHONE, BUSINESS_NUMBER)


@NOT_E164
def test_given_a_number_not_in_exact_e164_when_an_inbound_record_is_built_then_refused(
    number: str,
) -> None:
    # Carriers send E.164 exactly; a formatted or disguised number is refused, not repaired.
    with pytest.raises(InvalidPhoneNumberError) as caught:
        InboundSms("aws", "id-1", number, BUSINESS_NUMBER, "", "t")

    assert caught.value.field == "from"


def test_given_an_inbound_record_when_changed_then_it_refuses() -> None:
    sms = InboundSms("aws", "id-1", CLIENT_PHONE, BUSINESS_NUMBER, "", "t")

    with pytest.raises(dataclasses.FrozenInstanceError):
        sms.body = "changed"  # type: ignore[misc]


def test_given_a_malformed_destination_when_an_outbound_record_is_built_then_to_is_named() -> None:
    with pytest.raises(InvalidPhoneNumberError) as caught:
        OutboundSms(BUSINESS_NUMBER, "+1206555", "hello", "m-1", "harbor")

    assert caught.value.field == "to"


@pytest.mark.parametrize("body", ["", "   "])
def test_given_a_blank_body_when_an_outbound_record_is_built_then_validation_fails(
    body: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        OutboundSms(BUSINESS_NUMBER, CLIENT_PHONE, body, "m-1", "harbor")

    assert caught.value.field == "body"


def test_given_an_overlong_carrier_id_when_a_record_is_built_then_validation_fails() -> None:
    with pytest.raises(ValidationError) as caught:
        InboundSms("aws", "x" * 129, CLIENT_PHONE, BUSINESS_NUMBER, "", "t")

    assert caught.value.field == "carrier_message_id"


# --- Twilio webhooks -----------------------------------------------------------------
def twilio_form(name: str, **changes: str | None) -> bytes:
    params = load_event(name)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return urllib.parse.urlencode(params).encode()


def test_given_a_form_body_when_parsed_then_every_value_is_a_list_and_plus_signs_survive() -> None:
    params = twilio.parse_form(twilio_form("twilio_inbound.json"))

    assert params["From"] == [CLIENT_PHONE]
    assert params["Body"] == [BODY]
    assert params["NumMedia"] == ["1"]


def test_given_blank_values_when_a_form_is_parsed_then_they_are_kept() -> None:
    assert twilio.parse_form(b"Body=&To=x") == {"Body": [""], "To": ["x"]}


def test_given_a_repeated_name_when_a_form_is_parsed_then_all_values_are_kept_in_order() -> None:
    assert twilio.parse_form(b"A=2&A=1") == {"A": ["2", "1"]}


@pytest.mark.parametrize("raw", [b"Body=\xff\xfe", b"Body=%FF%FE"])
def test_given_bytes_that_are_not_utf8_when_a_form_is_parsed_then_validation_fails(
    raw: bytes,
) -> None:
    with pytest.raises(ValidationError) as caught:
        twilio.parse_form(raw)

    assert caught.value.field == "body"


def test_given_an_absurd_number_of_fields_when_a_form_is_parsed_then_validation_fails() -> None:
    raw = "&".join(f"F{i}=x" for i in range(500)).encode()

    with pytest.raises(ValidationError):
        twilio.parse_form(raw)


def test_given_the_inbound_fixture_when_parsed_then_unknown_params_and_media_are_ignored() -> None:
    params = twilio.parse_form(twilio_form("twilio_inbound.json"))

    sms = twilio.parse_inbound(params, received_at="2026-11-28T10:15:30.123Z")

    assert sms == InboundSms(
        carrier="twilio",
        carrier_message_id="SM0123456789abcdef0123456789abcdef",
        from_number=CLIENT_PHONE,
        to_number=BUSINESS_NUMBER,
        body=BODY,
        received_at="2026-11-28T10:15:30.123Z",
    )


def test_given_single_string_params_when_parsed_then_they_read_like_form_lists() -> None:
    params = load_event("twilio_inbound.json")

    sms = twilio.parse_inbound(params)

    assert (sms.carrier_message_id, sms.from_number) == (params["MessageSid"], CLIENT_PHONE)
    assert OUR_TIMESTAMP.fullmatch(sms.received_at)


@pytest.mark.parametrize("body", ["", None])
def test_given_an_empty_or_missing_body_when_parsed_then_the_text_is_empty(
    body: str | None,
) -> None:
    params = twilio.parse_form(twilio_form("twilio_inbound.json", Body=body))

    assert twilio.parse_inbound(params).body == ""


@pytest.mark.parametrize(
    ("missing", "field"),
    [("MessageSid", "carrier_message_id"), ("From", "from"), ("To", "to")],
)
def test_given_a_missing_inbound_param_when_parsed_then_validation_names_it(
    missing: str, field: str
) -> None:
    params = twilio.parse_form(twilio_form("twilio_inbound.json", **{missing: None}))

    with pytest.raises(ValidationError) as caught:
        twilio.parse_inbound(params)

    assert caught.value.field == field


def test_given_a_repeated_sender_when_parsed_then_validation_refuses_to_guess() -> None:
    params = twilio.parse_form(twilio_form("twilio_inbound.json"))
    params["From"] = [CLIENT_PHONE, BUSINESS_NUMBER]

    with pytest.raises(ValidationError) as caught:
        twilio.parse_inbound(params)

    assert caught.value.field == "from"


def test_given_the_delivered_status_fixture_when_parsed_then_delivered_without_reason() -> None:
    params = twilio.parse_form(twilio_form("twilio_status.json"))

    event = twilio.parse_status(params, received_at="2026-11-28T10:16:02.000Z")

    assert event.carrier == "twilio"
    assert event.carrier_message_id == "SMfedcba9876543210fedcba9876543210"
    assert event.status is MessageStatus.DELIVERED
    assert (event.message_id, event.reason) == (None, None)
    assert event.occurred_at == "2026-11-28T10:16:02.000Z"


def test_given_the_undelivered_fixture_when_parsed_then_failed_with_the_twilio_code() -> None:
    params = twilio.parse_form(twilio_form("twilio_status_undelivered.json"))

    event = twilio.parse_status(params)

    assert (event.status, event.reason) == (MessageStatus.FAILED, "twilio:30003")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("accepted", None),
        ("scheduled", None),
        ("queued", None),
        ("sending", None),
        ("sent", MessageStatus.SENT),
        ("delivered", MessageStatus.DELIVERED),
        ("read", MessageStatus.DELIVERED),
        ("undelivered", MessageStatus.FAILED),
        ("failed", MessageStatus.FAILED),
        ("canceled", MessageStatus.FAILED),
        ("something_new", None),
    ],
)
def test_given_each_twilio_status_when_parsed_then_it_maps_to_ours(
    status: str, expected: MessageStatus | None
) -> None:
    params = {"MessageSid": "SM1", "MessageStatus": status}

    assert twilio.parse_status(params).status is expected


@pytest.mark.parametrize("error_code", [None, "", "see message", "30003; drop table"])
def test_given_a_failure_without_a_numeric_code_when_parsed_then_the_status_is_the_reason(
    error_code: str | None,
) -> None:
    params = {"MessageSid": "SM1", "MessageStatus": "failed"}
    if error_code is not None:
        params["ErrorCode"] = error_code

    assert twilio.parse_status(params).reason == "twilio:failed"


@NOT_E164
@pytest.mark.parametrize(("param", "field"), [("From", "from"), ("To", "to")])
def test_given_a_number_not_in_exact_e164_when_a_twilio_inbound_is_parsed_then_the_field_is_named(
    number: str, param: str, field: str
) -> None:
    params = twilio.parse_form(twilio_form("twilio_inbound.json", **{param: number}))

    with pytest.raises(InvalidPhoneNumberError) as caught:
        twilio.parse_inbound(params)

    assert caught.value.field == field


@NOT_E164
def test_given_a_recipient_not_in_exact_e164_when_a_status_callback_is_parsed_then_refused(
    number: str,
) -> None:
    params = twilio.parse_form(twilio_form("twilio_status.json", To=number))

    with pytest.raises(InvalidPhoneNumberError) as caught:
        twilio.parse_status(params)

    assert caught.value.field == "to"


def test_given_a_sender_id_as_from_when_a_status_callback_is_parsed_then_it_is_read() -> None:
    params = twilio.parse_form(twilio_form("twilio_status.json", From="HARBOR"))

    assert twilio.parse_status(params).status is MessageStatus.DELIVERED


@pytest.mark.parametrize("missing", ["MessageSid", "MessageStatus"])
def test_given_a_status_callback_missing_a_param_when_parsed_then_validation_fails(
    missing: str,
) -> None:
    params = {"MessageSid": "SM1", "MessageStatus": "sent"}
    del params[missing]

    with pytest.raises(ValidationError):
        twilio.parse_status(params)
