"""Scheduled messages on moto: sent once when due, re-checked at send time, never lost."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core.errors import ConflictError, ConsentRequiredError
from functions.core.models import ConsentMode, ConsentRecord, MessageStatus
from functions.core.schedule import ScheduleStatus
from functions.handlers import inbound_sns, schedule_sweep, sender, sweeper
from functions.logic.access import Principal, Role
from local.apigw import LambdaContext
from tests.builders import sns_inbound
from tests.faults import Fault
from tests.integration.conftest import Messaging
from tests.phi_samples import BODY, BUSINESS_NUMBER, CLIENT_PHONE, OTHER_BODY

pytestmark = pytest.mark.integration

CONTEXT = LambdaContext("test")
CLINICIAN = Principal("u-clinician", "harbor", Role.CLINICIAN, "s1", 0)
# The harness's clock: Monday 2026-11-30 10:00 in New York (15:00 UTC).
AT_1030 = "2026-11-30T10:30"


def client_conversation(messaging: Messaging, *, consent: bool = True) -> str:
    """A client who texted in (and, unless told otherwise, chose plain texts)."""
    messaging.bound(inbound_sns)(
        sns_inbound(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=OTHER_BODY), CONTEXT
    )
    tenant = messaging.directory.active_tenant("harbor")
    conversation_id = messaging.directory.conversation_id_for(tenant, CLIENT_PHONE)
    if consent:
        messaging.store.set_consent(
            "harbor",
            conversation_id,
            ConsentRecord(ConsentMode.PLAIN_SMS, "u1", "2026-11-30T14:00:00.000Z", "v1"),
        )
    return conversation_id


def sweep(messaging: Messaging) -> dict[str, int]:
    result: dict[str, int] = messaging.bound(schedule_sweep)({}, CONTEXT)
    return result


def deliver(messaging: Messaging) -> None:
    """What the outbound queue's event source does next: hand queued sends to the sender."""
    event = messaging.sqs_event(messaging.outbound_url)
    if event["Records"]:
        result = messaging.bound(sender)(event, CONTEXT)
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        messaging.delete_all(messaging.outbound_url, event, failed)


def texts_to_client(messaging: Messaging) -> list[str]:
    return [s.body for s in messaging.carrier.outbox(CLIENT_PHONE)]


def schedule(messaging: Messaging, conversation_id: str, send_at: str = AT_1030) -> Any:
    return messaging.runtime.schedule_service().schedule(
        CLINICIAN, conversation_id, send_at=send_at, body=BODY
    )


def test_a_scheduled_text_waits_for_its_time_then_is_sent_once(messaging: Messaging) -> None:
    # Given a text scheduled for 10:30 practice time
    conversation_id = client_conversation(messaging)
    view = schedule(messaging, conversation_id)
    assert view.due_at == "2026-11-30T15:30:00.000Z" and view.due_local == AT_1030
    # When the sweep runs a minute early, nothing goes
    messaging.clock.advance(minutes=29)
    assert sweep(messaging)["sent"] == 0
    deliver(messaging)
    assert texts_to_client(messaging) == []
    # Then the first sweep after 10:30 sends it, and later sweeps never again
    messaging.clock.advance(minutes=1, seconds=20)
    assert sweep(messaging)["sent"] == 1
    messaging.clock.advance(minutes=1)
    assert sweep(messaging)["sent"] == 0
    deliver(messaging)
    assert texts_to_client(messaging) == [BODY]


def test_staff_see_the_pending_schedule_and_a_cancelled_one_is_never_sent(
    messaging: Messaging,
) -> None:
    service = messaging.runtime.schedule_service()
    conversation_id = client_conversation(messaging)
    view = schedule(messaging, conversation_id)
    assert [(v.schedule_id, v.body) for v in service.list_pending(CLINICIAN, conversation_id)] == [
        (view.schedule_id, BODY)
    ]
    service.cancel(CLINICIAN, conversation_id, view.schedule_id)
    assert service.list_pending(CLINICIAN, conversation_id) == []
    messaging.clock.advance(hours=1)
    assert sweep(messaging)["sent"] == 0
    with pytest.raises(ConflictError):
        service.cancel(CLINICIAN, conversation_id, view.schedule_id)


def test_an_opt_out_after_scheduling_stops_the_send(messaging: Messaging) -> None:
    conversation_id = client_conversation(messaging)
    view = schedule(messaging, conversation_id)
    messaging.bound(inbound_sns)(
        sns_inbound(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body="STOP"), CONTEXT
    )
    deliver(messaging)  # the STOP confirmation
    before = texts_to_client(messaging)
    messaging.clock.advance(hours=1)
    assert sweep(messaging)["skipped"] == 1
    deliver(messaging)
    assert texts_to_client(messaging) == before
    stored = messaging.runtime.schedule_store().get_schedule(
        "harbor", conversation_id, view.schedule_id
    )
    assert (stored.status, stored.reason) == (ScheduleStatus.SKIPPED, "opted_out")


def test_a_plain_text_needs_consent_when_scheduled(messaging: Messaging) -> None:
    conversation_id = client_conversation(messaging, consent=False)
    with pytest.raises(ConsentRequiredError):
        schedule(messaging, conversation_id)


def test_a_text_due_in_quiet_hours_waits_until_they_end(messaging: Messaging) -> None:
    # Given a text due at 20:59 that the sweep only reaches at 21:00 (quiet from 21:00)
    conversation_id = client_conversation(messaging)
    schedule(messaging, conversation_id, send_at="2026-11-30T20:59")
    messaging.clock.advance(hours=11, minutes=0)  # 21:00 New York
    assert sweep(messaging)["deferred"] == 1
    messaging.clock.advance(hours=10, minutes=59)  # 07:59 the next morning
    assert sweep(messaging)["sent"] == 0
    messaging.clock.advance(minutes=1)  # 08:00
    assert sweep(messaging)["sent"] == 1
    deliver(messaging)
    assert texts_to_client(messaging) == [BODY]


def test_a_table_fault_during_the_send_leaves_it_due_and_the_next_sweep_sends_it_once(
    messaging: Messaging,
) -> None:
    conversation_id = client_conversation(messaging)
    schedule(messaging, conversation_id)
    messaging.clock.advance(minutes=31)
    fault = Fault(messaging.table.meta.client, "TransactWriteItems", "InternalServerError")
    assert sweep(messaging)["retrying"] == 1
    fault.clear()
    deliver(messaging)
    assert texts_to_client(messaging) == []
    messaging.clock.advance(minutes=1)
    assert sweep(messaging)["sent"] == 1
    deliver(messaging)
    assert texts_to_client(messaging) == [BODY]


def test_a_schedule_that_keeps_failing_is_marked_failed_and_counted_for_the_alarm(
    messaging: Messaging,
) -> None:
    conversation_id = client_conversation(messaging)
    view = schedule(messaging, conversation_id)
    messaging.clock.advance(minutes=31)
    # A fault on this schedule's own path (its body's key cannot be decrypted)
    fault = Fault(messaging.kms, "Decrypt", "KMSInternalException", status=500)
    results = [sweep(messaging) for _ in range(5)]
    fault.clear()
    assert [r["failed"] for r in results] == [0, 0, 0, 0, 1]
    assert messaging.metrics.counts["ScheduledFailed"] == 1
    stored = messaging.runtime.schedule_store().get_schedule(
        "harbor", conversation_id, view.schedule_id
    )
    assert stored.status is ScheduleStatus.FAILED


def test_a_sweep_whose_query_fails_raises_so_lambda_retries_and_dead_letters_it(
    messaging: Messaging,
) -> None:
    conversation_id = client_conversation(messaging)
    schedule(messaging, conversation_id)
    messaging.clock.advance(minutes=31)
    fault = Fault(messaging.table.meta.client, "Query", "InternalServerError")
    with pytest.raises(Exception, match="Query"):
        sweep(messaging)
    fault.clear()
    assert sweep(messaging)["sent"] == 1


def test_a_crash_after_the_claim_but_before_the_queue_is_redriven_by_the_sweeper(
    messaging: Messaging,
) -> None:
    # Given SQS down when the sweep hands the claimed message on
    conversation_id = client_conversation(messaging)
    schedule(messaging, conversation_id)
    messaging.clock.advance(minutes=31)
    fault = Fault(messaging.sqs, "SendMessage", "InternalError", status=500)
    assert sweep(messaging)["sent"] == 1
    fault.clear()
    # Then the message is stored as queued, the schedule is not sent again, and the
    # outbound sweeper re-drives the message: one text
    assert sweep(messaging)["sent"] == 0
    messaging.clock.advance(minutes=6)
    messaging.bound(sweeper)({}, CONTEXT)
    deliver(messaging)
    assert texts_to_client(messaging) == [BODY]


def test_two_overlapping_sweeps_send_once(messaging: Messaging) -> None:
    # Given two sweeps that both read the same due schedule before either sends it
    conversation_id = client_conversation(messaging)
    view = schedule(messaging, conversation_id)
    messaging.clock.advance(minutes=31)
    store = messaging.runtime.schedule_store()
    stale = store.get_schedule("harbor", conversation_id, view.schedule_id)
    assert sweep(messaging)["sent"] == 1
    # When the slower one tries its claim with what it read
    late = messaging.runtime.due_sweep()
    tenant = messaging.directory.active_tenant("harbor")
    late._send(tenant, stale, None, messaging.clock.now())
    # Then its conditional write loses and nothing more is queued
    assert late.counts.raced == 1
    deliver(messaging)
    assert texts_to_client(messaging) == [BODY]
    statuses = [
        i["status"]
        for i in messaging.table.scan()["Items"]
        if i.get("direction") == "outbound" and i.get("message_id") == stale.message_id
    ]
    assert statuses == [MessageStatus.SENT.value]
