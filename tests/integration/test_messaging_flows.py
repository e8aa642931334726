"""Two-way SMS end to end on moto: inbound, keywords, consent, outbound, delivery, both carriers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.container import Container
from functions.core.errors import ConsentRequiredError, OptedOutError, ValidationError
from functions.core.models import (
    AfterHours,
    ConsentMode,
    ConsentRecord,
    MessageRef,
    MessageStatus,
    TenantSettings,
)
from functions.crypto.contexts import body_location
from functions.handlers import delivery_events, inbound_sns, sender, twilio_webhook
from local.apigw import LambdaContext
from tests.builders import aws_delivery, sns_inbound, twilio_inbound_form, twilio_post
from tests.integration.conftest import TWILIO_AUTH_TOKEN, Messaging
from tests.phi_samples import BODY, BUSINESS_NUMBER, CLIENT_PHONE, LONG_BODY, OTHER_BODY

pytestmark = pytest.mark.integration

CONTEXT = LambdaContext("test")


def _inbound(
    messaging: Messaging, body: str = BODY, *, inbound_id: str | None = None
) -> dict[str, Any]:
    event = sns_inbound(
        from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=body, inbound_id=inbound_id
    )
    return messaging.bound(inbound_sns)(event, CONTEXT)


def _conversation_id(messaging: Messaging) -> str:
    tenant = messaging.directory.active_tenant("harbor")
    return messaging.directory.conversation_id_for(tenant, CLIENT_PHONE)


def _thread(messaging: Messaging) -> list[tuple[str, str, str]]:
    """(direction, status, decrypted body) newest first."""
    conversation_id = _conversation_id(messaging)
    page = messaging.store.list_messages("harbor", conversation_id)
    return [
        (
            m.direction.value,
            m.status.value,
            messaging.cipher.decrypt(
                body_location("harbor", conversation_id, m.message_id), m.body_record
            ),
        )
        for m in page.items
    ]


def _run_sender(messaging: Messaging) -> dict[str, Any]:
    event = messaging.sqs_event(messaging.outbound_url)
    if not event["Records"]:
        return {"batchItemFailures": []}  # Lambda never invokes with an empty batch
    result = messaging.bound(sender)(event, CONTEXT)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    messaging.delete_all(messaging.outbound_url, event, failed)
    return result


def _give_consent(messaging: Messaging, mode: ConsentMode = ConsentMode.PLAIN_SMS) -> str:
    conversation_id = _conversation_id(messaging)
    messaging.store.set_consent(
        "harbor",
        conversation_id,
        ConsentRecord(mode, "user-clinician-1", "2026-11-30T14:00:00.000Z", "v1"),
    )
    return conversation_id


# --- inbound ----------------------------------------------------------------------------
def test_an_inbound_text_is_stored_encrypted_and_staff_are_told_without_phi(
    messaging: Messaging,
) -> None:
    assert _inbound(messaging) == {"outcomes": ["stored"]}
    assert _thread(messaging) == [("inbound", "received", BODY)]
    conversation = messaging.store.get_conversation("harbor", _conversation_id(messaging))
    assert conversation.unread_count == 1 and conversation.business_number == BUSINESS_NUMBER
    assert messaging.run_staff_notifier() == {"batchItemFailures": []}  # the table's stream
    notes = messaging.staff_notifications()
    assert len(notes) == 1 and "Harbor Counseling" in notes[0]
    assert (
        BODY not in notes[0] and CLIENT_PHONE not in notes[0] and CLIENT_PHONE[2:] not in notes[0]
    )


def test_the_same_inbound_delivered_twice_is_stored_once(messaging: Messaging) -> None:
    assert _inbound(messaging, inbound_id="dup-1") == {"outcomes": ["stored"]}
    assert _inbound(messaging, inbound_id="dup-1") == {"outcomes": ["duplicate"]}
    assert len(_thread(messaging)) == 1
    assert messaging.metrics.counts["InboundDuplicate"] == 1


def test_a_text_to_an_unknown_number_stores_nothing_and_is_counted(messaging: Messaging) -> None:
    event = sns_inbound(from_number=CLIENT_PHONE, to_number="+13125550100", body=BODY)
    assert messaging.bound(inbound_sns)(event, CONTEXT) == {"outcomes": ["unknown_number"]}
    assert messaging.metrics.counts["InboundUnknownNumber"] == 1
    assert (
        messaging.table.scan(
            FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": "CONV#"}
        )["Items"]
        == []
    )


def test_a_malformed_sns_record_raises_so_lambda_retries_it_into_the_dlq(
    messaging: Messaging,
) -> None:
    event = sns_inbound(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY)
    event["Records"][0]["Sns"]["Message"] = "{not json"
    with pytest.raises(ValidationError):
        messaging.bound(inbound_sns)(event, CONTEXT)


# --- keywords -----------------------------------------------------------------------------
def test_stop_opts_out_confirms_once_and_refuses_the_next_plain_send(messaging: Messaging) -> None:
    conversation_id = _inbound(messaging) and _give_consent(messaging)
    assert _inbound(messaging, " stop ")["outcomes"] == ["stored"]
    assert messaging.store.get_conversation("harbor", conversation_id).opted_out
    _run_sender(messaging)
    confirmation = messaging.carrier.outbox(CLIENT_PHONE)
    assert len(confirmation) == 1
    assert "Harbor Counseling" in confirmation[0].body and "START" in confirmation[0].body
    with pytest.raises(OptedOutError):
        messaging.runtime.outbound_service().accept(
            tenant_id="harbor", conversation_id=conversation_id, body=OTHER_BODY, sent_by="user-1"
        )
    assert [d for d, s, b in _thread(messaging) if b == OTHER_BODY] == []


def test_start_opts_back_in(messaging: Messaging) -> None:
    _inbound(messaging, "STOP")
    conversation_id = _give_consent(messaging)
    _inbound(messaging, "Start")
    assert not messaging.store.get_conversation("harbor", conversation_id).opted_out
    message = messaging.runtime.outbound_service().accept(
        tenant_id="harbor", conversation_id=conversation_id, body=OTHER_BODY, sent_by="user-1"
    )
    assert message.status is MessageStatus.QUEUED


def test_help_replies_with_the_practice_contact_and_rates_notice(messaging: Messaging) -> None:
    _inbound(messaging, "HELP")
    _run_sender(messaging)
    (reply,) = messaging.carrier.outbox(CLIENT_PHONE)
    assert "Harbor Counseling" in reply.body and "(206) 555-0100" in reply.body
    assert "Msg & data rates may apply" in reply.body and "STOP" in reply.body
    assert reply.origination_number == BUSINESS_NUMBER


def test_a_practice_can_word_its_own_help_reply(messaging: Messaging) -> None:
    messaging.store.update_tenant_settings(
        "harbor", TenantSettings(help_reply="Call us at the front desk.")
    )
    _inbound(messaging, "info")
    _run_sender(messaging)
    assert [s.body for s in messaging.carrier.outbox()] == ["Call us at the front desk."]


def test_an_opt_out_that_arrives_while_a_send_is_queued_stops_that_send(
    messaging: Messaging,
) -> None:
    _inbound(messaging)
    conversation_id = _give_consent(messaging)
    messaging.runtime.outbound_service().accept(
        tenant_id="harbor", conversation_id=conversation_id, body=OTHER_BODY, sent_by="user-1"
    )
    _inbound(messaging, "STOP")
    _run_sender(messaging)
    bodies = [s.body for s in messaging.carrier.outbox()]
    assert OTHER_BODY not in bodies and len(bodies) == 1  # only the STOP confirmation
    statuses = {b: s for d, s, b in _thread(messaging) if d == "outbound"}
    assert statuses[OTHER_BODY] == "failed"


# --- after hours --------------------------------------------------------------------------
def test_after_hours_auto_reply_is_sent_at_most_once_per_window(messaging: Messaging) -> None:
    rule = AfterHours(
        enabled=True,
        timezone="America/New_York",
        text="We're closed; we reply next business day.",
        window_minutes=60,
    )
    messaging.store.update_tenant_settings("harbor", TenantSettings(after_hours=rule))
    messaging.clock.advance(hours=10)  # Monday 20:00 in New York
    _inbound(messaging)
    _inbound(messaging, OTHER_BODY)
    messaging.clock.advance(minutes=61)
    _inbound(messaging, "one more thing")
    _run_sender(messaging)
    assert [s.body for s in messaging.carrier.outbox()] == [rule.text, rule.text]


def test_no_auto_reply_during_office_hours_or_when_off(messaging: Messaging) -> None:
    _inbound(messaging)
    messaging.clock.advance(hours=10)
    _inbound(messaging)
    _run_sender(messaging)
    assert messaging.carrier.outbox() == []


# --- outbound --------------------------------------------------------------------------------
def test_outbound_goes_queued_sent_delivered_with_segments_recorded(messaging: Messaging) -> None:
    _inbound(messaging)
    conversation_id = _give_consent(messaging)
    message = messaging.runtime.outbound_service().accept(
        tenant_id="harbor", conversation_id=conversation_id, body=LONG_BODY, sent_by="user-1"
    )
    assert message.segments == 10 and message.encoding == "GSM-7"  # 1,380 chars / 153
    assert _run_sender(messaging) == {"batchItemFailures": []}
    ref = MessageRef("harbor", conversation_id, message.message_id)
    sent = messaging.store.get_message(ref)
    assert sent.status is MessageStatus.SENT and sent.carrier_message_id
    (text,) = messaging.carrier.outbox(CLIENT_PHONE)
    assert text.body == LONG_BODY and text.message_ref == ref.token()
    messaging.bound(delivery_events)(aws_delivery(ref, sent.carrier_message_id), CONTEXT)
    assert messaging.store.get_message(ref).status is MessageStatus.DELIVERED


def test_status_events_out_of_order_never_regress(messaging: Messaging) -> None:
    _inbound(messaging)
    conversation_id = _give_consent(messaging)
    message = messaging.runtime.outbound_service().accept(
        tenant_id="harbor", conversation_id=conversation_id, body=OTHER_BODY, sent_by="user-1"
    )
    ref = MessageRef("harbor", conversation_id, message.message_id)
    # The delivery report overtakes our own 'sent' write: it still finds the message.
    assert messaging.bound(delivery_events)(aws_delivery(ref, "aws-77"), CONTEXT) == {
        "outcome": "updated"
    }
    assert messaging.bound(delivery_events)(
        aws_delivery(ref, "aws-77", "TEXT_PENDING", final=False), CONTEXT
    ) == {"outcome": "ignored"}
    assert _run_sender(messaging) == {"batchItemFailures": []}
    assert messaging.carrier.outbox() == []  # already delivered: not sent twice
    assert messaging.store.get_message(ref).status is MessageStatus.DELIVERED


def test_a_status_for_an_unknown_message_is_acknowledged_and_counted(messaging: Messaging) -> None:
    assert messaging.bound(delivery_events)(aws_delivery(None, "never-sent"), CONTEXT) == {
        "outcome": "unknown"
    }
    assert messaging.metrics.counts["StatusForUnknownMessage"] == 1


def test_plain_sms_without_recorded_consent_is_refused_and_nothing_is_stored(
    messaging: Messaging,
) -> None:
    _inbound(messaging)
    conversation_id = _conversation_id(messaging)
    with pytest.raises(ConsentRequiredError):
        messaging.runtime.outbound_service().accept(
            tenant_id="harbor", conversation_id=conversation_id, body=OTHER_BODY, sent_by="user-1"
        )
    _give_consent(messaging, ConsentMode.SECURE_LINK)
    with pytest.raises(ConsentRequiredError):
        messaging.runtime.outbound_service().accept(
            tenant_id="harbor", conversation_id=conversation_id, body=OTHER_BODY, sent_by="user-1"
        )
    assert [d for d, _, _ in _thread(messaging)] == ["inbound"]
    assert messaging.receive(messaging.outbound_url) == []


def test_a_body_over_the_limit_is_refused_with_a_clear_error(messaging: Messaging) -> None:
    _inbound(messaging)
    conversation_id = _give_consent(messaging)
    with pytest.raises(ValidationError) as caught:
        messaging.runtime.outbound_service().accept(
            tenant_id="harbor", conversation_id=conversation_id, body="x" * 1601, sent_by="user-1"
        )
    assert caught.value.field == "body"


# --- Twilio ---------------------------------------------------------------------------------
def _twilio_inbound(
    body: str = BODY, *, sid: str | None = None, sign_with: str | None = None
) -> dict[str, Any]:
    form = twilio_inbound_form(
        from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=body, sid=sid
    )
    return twilio_post("/webhooks/twilio/sms", form, TWILIO_AUTH_TOKEN, sign_with=sign_with)


def test_a_signed_twilio_inbound_is_stored_and_answered_with_empty_twiml(
    messaging: Messaging,
) -> None:
    response = messaging.bound(twilio_webhook)(_twilio_inbound(), CONTEXT)
    assert response["statusCode"] == 200 and "<Response>" in response["body"]
    assert _thread(messaging) == [("inbound", "received", BODY)]


def test_twilio_redelivery_of_the_same_sid_is_stored_once(messaging: Messaging) -> None:
    for _ in range(2):
        assert (
            messaging.bound(twilio_webhook)(_twilio_inbound(sid="SMdup"), CONTEXT)["statusCode"]
            == 200
        )
    assert len(_thread(messaging)) == 1


@pytest.mark.parametrize("tamper", ["forged", "missing", "body-changed", "wrong-url"])
def test_a_forged_or_unsigned_twilio_webhook_gets_403_and_stores_nothing(
    messaging: Messaging, tamper: str
) -> None:
    event = _twilio_inbound()
    if tamper == "forged":
        event = _twilio_inbound(sign_with="not-the-auth-token")
    elif tamper == "missing":
        del event["headers"]["X-Twilio-Signature"]
    elif tamper == "body-changed":
        event["body"] = event["body"].replace("anxiety", "nothing")
    else:
        event["path"] = event["resource"] = "/webhooks/twilio/sms/"
    response = messaging.bound(twilio_webhook)(event, CONTEXT)
    assert response["statusCode"] in (403, 404)
    assert response["statusCode"] == 403 or tamper == "wrong-url"
    assert (
        messaging.table.scan(
            FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": "CONV#"}
        )["Items"]
        == []
    )
    assert BODY not in json.dumps(response)


def test_a_malformed_twilio_webhook_gets_400_without_echoing_input(messaging: Messaging) -> None:
    form = twilio_inbound_form(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY)
    form["From"] = "not-a-number"
    response = messaging.bound(twilio_webhook)(
        twilio_post("/webhooks/twilio/sms", form, TWILIO_AUTH_TOKEN), CONTEXT
    )
    assert response["statusCode"] == 400
    assert "not-a-number" not in response["body"] and BODY not in response["body"]


def test_an_oversized_twilio_webhook_gets_413(messaging: Messaging) -> None:
    form = twilio_inbound_form(
        from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body="x" * 70_000
    )
    response = messaging.bound(twilio_webhook)(
        twilio_post("/webhooks/twilio/sms", form, TWILIO_AUTH_TOKEN), CONTEXT
    )
    assert response["statusCode"] == 413


def test_twilio_status_callbacks_advance_the_message_and_tolerate_unknown_ones(
    messaging: Messaging,
) -> None:
    _inbound(messaging)
    conversation_id = _give_consent(messaging)
    message = messaging.runtime.outbound_service().accept(
        tenant_id="harbor", conversation_id=conversation_id, body=OTHER_BODY, sent_by="user-1"
    )
    _run_sender(messaging)
    ref = MessageRef("harbor", conversation_id, message.message_id)
    carrier_id = messaging.store.get_message(ref).carrier_message_id or ""
    status = {
        "MessageSid": carrier_id,
        "MessageStatus": "delivered",
        "AccountSid": "AC1",
        "ApiVersion": "2010-04-01",
    }
    event = twilio_post(
        "/webhooks/twilio/status", status, TWILIO_AUTH_TOKEN, query=f"ref={ref.token()}"
    )
    assert messaging.bound(twilio_webhook)(event, CONTEXT)["statusCode"] == 200
    assert messaging.store.get_message(ref).status is MessageStatus.DELIVERED
    unknown = {
        "MessageSid": "SMnope",
        "MessageStatus": "delivered",
        "AccountSid": "AC1",
        "ApiVersion": "2010-04-01",
    }
    event = twilio_post("/webhooks/twilio/status", unknown, TWILIO_AUTH_TOKEN)
    assert messaging.bound(twilio_webhook)(event, CONTEXT)["statusCode"] == 200
    assert messaging.metrics.counts["StatusForUnknownMessage"] == 1


def test_a_webhook_signed_for_another_twilio_account_is_refused(messaging: Messaging) -> None:
    def webhook_for_account(account_sid: str) -> Any:
        settings = messaging.runtime.settings.model_copy(update={"twilio_account_sid": account_sid})
        runtime = Container(
            settings, clients=messaging.runtime.clients, ports=messaging.runtime.ports
        )
        return twilio_webhook.handler.bound(runtime)

    assert webhook_for_account("AC" + "f" * 32)(_twilio_inbound(), CONTEXT)["statusCode"] == 403
    conversations = messaging.table.scan(
        FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": "CONV#"}
    )["Items"]
    assert conversations == []
    ours = webhook_for_account("AC0123456789abcdef0123456789abcdef")
    assert ours(_twilio_inbound(), CONTEXT)["statusCode"] == 200
