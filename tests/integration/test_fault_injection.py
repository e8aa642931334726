"""Losing nothing: each dependency fails, and every message still ends stored, sent, failed
with a reason, or in a dead-letter queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from functions.core.errors import PermanentCarrierError, TransientCarrierError
from functions.core.models import MessageRef, MessageStatus
from functions.handlers import inbound_sns, retry_worker, sender, sweeper, twilio_webhook
from local.apigw import LambdaContext
from tests.builders import sns_inbound, twilio_inbound_form, twilio_post
from tests.faults import Fault
from tests.integration.conftest import TWILIO_AUTH_TOKEN, Messaging
from tests.phi_samples import BODY, BUSINESS_NUMBER, CLIENT_PHONE, OTHER_BODY

pytestmark = pytest.mark.integration

CONTEXT = LambdaContext("test")


def _twilio_inbound(sid: str = "SMfault") -> dict[str, Any]:
    form = twilio_inbound_form(
        from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY, sid=sid
    )
    return twilio_post("/webhooks/twilio/sms", form, TWILIO_AUTH_TOKEN)


def _stored_inbound(messaging: Messaging) -> int:
    items = messaging.table.scan(
        FilterExpression="direction = :d", ExpressionAttributeValues={":d": "inbound"}
    )["Items"]
    return len(items)


def _drain(messaging: Messaging, queue_url: str, handler: Any) -> dict[str, Any]:
    event = messaging.sqs_event(queue_url)
    if not event["Records"]:
        return {"batchItemFailures": []}
    result: dict[str, Any] = handler(event, CONTEXT)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    messaging.delete_all(queue_url, event, failed)
    return result


def _queued_outbound(messaging: Messaging) -> MessageRef:
    messaging.bound(inbound_sns)(
        sns_inbound(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY), CONTEXT
    )
    tenant = messaging.directory.active_tenant("harbor")
    conversation_id = messaging.directory.conversation_id_for(tenant, CLIENT_PHONE)
    from functions.core.models import ConsentMode, ConsentRecord

    messaging.store.set_consent(
        "harbor",
        conversation_id,
        ConsentRecord(ConsentMode.PLAIN_SMS, "u1", "2026-11-30T14:00:00.000Z", "v1"),
    )
    message = messaging.runtime.outbound_service().accept(
        tenant_id="harbor", conversation_id=conversation_id, body=OTHER_BODY, sent_by="u1"
    )
    return MessageRef("harbor", conversation_id, message.message_id)


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("dynamodb", "TransactWriteItems", "ProvisionedThroughputExceededException"),
        ("dynamodb", "TransactWriteItems", "InternalServerError"),
        ("kms", "GenerateDataKey", "ThrottlingException"),
        ("kms", "GenerateDataKey", "KMSInternalException"),
    ],
)
def test_a_dependency_fault_on_inbound_parks_the_text_and_the_retry_stores_it_once(
    messaging: Messaging, service: str, operation: str, code: str
) -> None:
    client = messaging.table.meta.client if service == "dynamodb" else messaging.kms
    fault = Fault(client, operation, code)
    # Twilio gets its 2xx only because the text is durable on the retry queue.
    assert messaging.bound(twilio_webhook)(_twilio_inbound(), CONTEXT)["statusCode"] == 200
    assert fault.hits >= 1 and _stored_inbound(messaging) == 0
    assert messaging.metrics.counts["InboundDeferred"] == 1
    fault.clear()
    assert _drain(messaging, messaging.retry_url, messaging.bound(retry_worker)) == {
        "batchItemFailures": []
    }
    assert _stored_inbound(messaging) == 1
    # The carrier's own redelivery after that is still a duplicate.
    messaging.bound(twilio_webhook)(_twilio_inbound(), CONTEXT)
    assert _stored_inbound(messaging) == 1


def test_a_persistent_fault_ends_in_the_retry_dlq_never_a_silent_drop(messaging: Messaging) -> None:
    fault = Fault(messaging.table.meta.client, "TransactWriteItems", "InternalServerError")
    messaging.bound(twilio_webhook)(_twilio_inbound(), CONTEXT)
    for _ in range(3):  # maxReceiveCount of the test queue
        result = _drain(messaging, messaging.retry_url, messaging.bound(retry_worker))
        assert len(result["batchItemFailures"]) == 1
    assert messaging.receive(messaging.retry_url) == []  # moto moves it on the next receive
    dead = messaging.receive(messaging.retry_dlq_url)
    assert len(dead) == 1 and '"kind": "inbound"' in dead[0]["Body"]
    fault.clear()


def test_when_the_retry_queue_is_down_too_the_webhook_fails_so_the_carrier_retries(
    messaging: Messaging,
) -> None:
    Fault(messaging.table.meta.client, "TransactWriteItems", "InternalServerError")
    Fault(messaging.sqs, "SendMessage", "InternalError", status=500)
    event = sns_inbound(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=BODY)
    with pytest.raises(Exception, match="SendMessage"):
        messaging.bound(inbound_sns)(event, CONTEXT)  # Lambda async retries, then the function DLQ
    assert _stored_inbound(messaging) == 0


def test_a_transient_carrier_error_is_retried_with_backoff_then_sent(messaging: Messaging) -> None:
    ref = _queued_outbound(messaging)
    backoffs: list[int] = []
    messaging.sqs.meta.events.register(
        "provide-client-params.sqs.ChangeMessageVisibility",
        lambda params, **_: backoffs.append(params["VisibilityTimeout"]),
    )
    messaging.carrier.fail_next(TransientCarrierError("simulated:throttled"))
    assert (
        len(_drain(messaging, messaging.outbound_url, messaging.bound(sender))["batchItemFailures"])
        == 1
    )
    assert backoffs[0] == sender.backoff_seconds(1)
    assert messaging.store.get_message(ref).status is MessageStatus.QUEUED
    messaging.clock.advance(seconds=91)  # past the first attempt's lease
    assert _drain(messaging, messaging.outbound_url, messaging.bound(sender)) == {
        "batchItemFailures": []
    }
    assert messaging.store.get_message(ref).status is MessageStatus.SENT
    assert len(messaging.carrier.outbox(CLIENT_PHONE)) == 1


def test_a_permanent_carrier_error_marks_the_message_failed_with_its_reason(
    messaging: Messaging,
) -> None:
    ref = _queued_outbound(messaging)
    messaging.carrier.fail_next(PermanentCarrierError("aws:ValidationException"))
    assert _drain(messaging, messaging.outbound_url, messaging.bound(sender)) == {
        "batchItemFailures": []
    }
    failed = messaging.store.get_message(ref)
    assert (
        failed.status is MessageStatus.FAILED and failed.failure_reason == "aws:ValidationException"
    )


def test_a_carrier_that_reports_the_client_opted_out_records_the_opt_out(
    messaging: Messaging,
) -> None:
    ref = _queued_outbound(messaging)
    messaging.carrier.fail_next(PermanentCarrierError("twilio:21610", recipient_opted_out=True))
    _drain(messaging, messaging.outbound_url, messaging.bound(sender))
    assert messaging.store.get_conversation("harbor", ref.conversation_id).opted_out


def test_a_sender_that_keeps_failing_ends_in_the_outbound_dlq(messaging: Messaging) -> None:
    _queued_outbound(messaging)
    messaging.carrier.fail_next(*[TransientCarrierError("simulated:5xx")] * 3)
    for _ in range(3):
        messaging.clock.advance(seconds=91)
        assert (
            len(
                _drain(messaging, messaging.outbound_url, messaging.bound(sender))[
                    "batchItemFailures"
                ]
            )
            == 1
        )
    assert messaging.receive(messaging.outbound_url) == []
    assert len(messaging.receive(messaging.outbound_dlq_url)) == 1


def test_a_message_stored_while_sqs_was_down_is_picked_up_by_the_sweeper(
    messaging: Messaging,
) -> None:
    fault = Fault(messaging.sqs, "SendMessage", "InternalError", status=500, times=1)
    ref = _queued_outbound(messaging)
    assert fault.hits == 1 and messaging.metrics.counts["OutboundEnqueueFailed"] == 1
    assert messaging.receive(messaging.outbound_url) == []
    assert messaging.bound(sweeper)({}, CONTEXT) == {
        "requeued": 0,
        "expired": 0,
    }  # too soon to tell
    messaging.clock.advance(minutes=6)
    assert messaging.bound(sweeper)({}, CONTEXT) == {"requeued": 1, "expired": 0}
    _drain(messaging, messaging.outbound_url, messaging.bound(sender))
    assert messaging.store.get_message(ref).status is MessageStatus.SENT


def test_a_message_never_sent_within_a_day_is_failed_not_left_queued(messaging: Messaging) -> None:
    Fault(messaging.sqs, "SendMessage", "InternalError", status=500)
    ref = _queued_outbound(messaging)
    messaging.clock.advance(hours=25)
    assert messaging.bound(sweeper)({}, CONTEXT) == {"requeued": 0, "expired": 1}
    expired = messaging.store.get_message(ref)
    assert expired.status is MessageStatus.FAILED and expired.failure_reason == "expired_in_queue"
    assert messaging.store.list_pending(created_before="9999") == []


def test_two_deliveries_of_the_same_queue_entry_send_once(messaging: Messaging) -> None:
    ref = _queued_outbound(messaging)
    messaging.runtime.outbound_queue().enqueue(ref)  # SQS at-least-once: the same entry twice
    _drain(messaging, messaging.outbound_url, messaging.bound(sender))
    _drain(messaging, messaging.outbound_url, messaging.bound(sender))
    assert len(messaging.carrier.outbox(CLIENT_PHONE)) == 1


def test_backoff_grows_with_each_receive_and_is_capped() -> None:
    delays = [sender.backoff_seconds(n) for n in range(1, 10)]
    assert delays == sorted(delays) and delays[0] == 15 and delays[-1] == 900
    assert timedelta(seconds=delays[-1]) <= timedelta(minutes=15)
