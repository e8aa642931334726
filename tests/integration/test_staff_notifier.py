"""Staff hear of a new inbound text from the message table's stream, not in the request:
one no-PHI e-mail per inbound message, none for anything else, and a failed publish is
delivered again from where it failed."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core.models import TenantStatus
from functions.dal.schema import NEW_INBOUND_MESSAGE_FILTER
from functions.handlers import inbound_sns, staff_notifier
from local.apigw import LambdaContext
from tests.builders import sns_inbound
from tests.faults import Fault
from tests.integration.conftest import Messaging, record_operations
from tests.integration.streams import matches
from tests.phi_samples import BODY, BUSINESS_NUMBER, CLIENT_PHONE, OTHER_BODY, OTHER_CLIENT_PHONE

pytestmark = pytest.mark.integration

CONTEXT = LambdaContext("test")


def _text_in(messaging: Messaging, body: str = BODY, from_number: str = CLIENT_PHONE) -> None:
    event = sns_inbound(from_number=from_number, to_number=BUSINESS_NUMBER, body=body)
    assert messaging.bound(inbound_sns)(event, CONTEXT) == {"outcomes": ["stored"]}


def _sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]


def test_the_inbound_request_publishes_nothing_and_the_stream_tells_staff_once(
    messaging: Messaging,
) -> None:
    # Given a client's text, stored by the inbound function
    sns_calls = record_operations(messaging.runtime.clients.client("sns"))
    _text_in(messaging)
    assert sns_calls == [] and messaging.staff_notifications() == []

    # When the stream's records reach the notifier
    result = messaging.run_staff_notifier()

    # Then staff get one e-mail naming the practice, nothing else
    assert result == {"batchItemFailures": []}
    (note,) = messaging.staff_notifications()
    assert "Harbor Counseling" in note
    assert BODY not in note and CLIENT_PHONE not in note and CLIENT_PHONE[2:] not in note
    assert messaging.run_staff_notifier() == {"batchItemFailures": []}  # nothing new
    assert len(messaging.staff_notifications()) == 1


def test_only_inbound_message_inserts_pass_the_mappings_filter(messaging: Messaging) -> None:
    # Given a first contact that texts HELP: one transaction writes the inbound message,
    # the practice's queued reply, the conversation and the carrier-id guard
    _text_in(messaging, body="HELP")

    # When its stream records are filtered as the deployed mapping filters them
    records = messaging.stream.event(pattern=None)["Records"]
    kept = [r for r in records if matches(NEW_INBOUND_MESSAGE_FILTER, r)]

    # Then of its two message inserts only the inbound one is kept
    message_inserts = [
        r["dynamodb"]["NewImage"]["direction"]["S"]
        for r in records
        if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["sk"]["S"].startswith("MSG#")
    ]
    assert sorted(message_inserts) == ["inbound", "outbound"]
    (record,) = kept
    assert record["dynamodb"]["NewImage"]["direction"] == {"S": "inbound"}


def test_the_notifier_itself_ignores_every_other_change(messaging: Messaging) -> None:
    # Given the stream unfiltered (a mapping whose filter was changed by hand)
    _text_in(messaging, body="HELP")
    event = messaging.stream.event(pattern=None)

    # When the notifier gets every record
    result = messaging.bound(staff_notifier)(event, CONTEXT)

    # Then it still tells staff once, for the inbound message only
    assert result == {"batchItemFailures": []}
    assert len(messaging.staff_notifications()) == 1


class _FailsNth(Fault):
    """Fails only the `nth` call of `operation` (with a code botocore does not retry)."""

    def __init__(self, client: Any, operation: str, code: str, nth: int) -> None:
        self.nth, self.calls = nth, 0
        super().__init__(client, operation, code)

    def _fail(self, **kwargs: Any) -> Any:
        self.calls += 1
        return super()._fail(**kwargs) if self.calls == self.nth else None


def test_a_failed_publish_is_reported_and_only_the_rest_are_delivered_again(
    messaging: Messaging,
) -> None:
    # Given three texts in one batch, and SNS refusing the second publish
    texts = ((BODY, CLIENT_PHONE), (OTHER_BODY, OTHER_CLIENT_PHONE), ("hi", CLIENT_PHONE))
    for body, number in texts:
        _text_in(messaging, body=body, from_number=number)
    event = messaging.stream.event()
    first, second, third = _sequence_numbers(event)
    _FailsNth(messaging.runtime.clients.client("sns"), "Publish", "KMSDisabled", nth=2)

    # When the batch is handled
    result = messaging.bound(staff_notifier)(event, CONTEXT)

    # Then Lambda is told to resume at the second record; the first was told once
    assert result == {"batchItemFailures": [{"itemIdentifier": second}]}
    assert messaging.metrics.counts["StaffNotificationFailed"] == 1
    assert len(messaging.staff_notifications()) == 1
    # And the records Lambda hands over again (from the second on) are all told
    resumed = {"Records": [r for r in event["Records"] if r["dynamodb"]["SequenceNumber"] != first]}
    assert _sequence_numbers(resumed) == [second, third]
    assert messaging.bound(staff_notifier)(resumed, CONTEXT) == {"batchItemFailures": []}
    assert len(messaging.staff_notifications()) == 3


def test_a_text_for_a_tenant_wiped_since_tells_nobody(messaging: Messaging) -> None:
    _text_in(messaging)
    messaging.store.set_tenant_status("harbor", TenantStatus.WIPED)

    assert messaging.run_staff_notifier() == {"batchItemFailures": []}
    assert messaging.staff_notifications() == []
