"""Hot paths that make their independent AWS calls together (one batch read, a data-layer
wave, a KMS wave) keep every guarantee of a serial run: nothing is decrypted before the
session and visibility checks pass, failed checks are audited, a fault in any call ends
where it did before, and no data key is spent early."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from functions.carriers.models import InboundSms
from functions.core.clock import iso
from functions.core.errors import DependencyError
from functions.core.models import MessageRef, MessageStatus, TenantStatus
from functions.handlers import inbound_sns, retry_worker
from functions.logic.audit import Outcome
from functions.logic.inbound import InboundOutcome
from functions.logic.outbound import SendInProgressError, SendOutcome
from local.apigw import LambdaContext
from tests.builders import sns_inbound
from tests.faults import Fault
from tests.integration.api_harness import Caller, call
from tests.integration.conftest import Messaging, StaffApi, record_operations
from tests.phi_samples import BODY, BUSINESS_NUMBER, CLIENT_PHONE, OTHER_BODY, OTHER_CLIENT_PHONE

pytestmark = pytest.mark.integration

CONTEXT = LambdaContext("test")
THREAD = "/conversations/{conversation_id}/messages"


def _text_in(on: Messaging | StaffApi, from_number: str = CLIENT_PHONE, body: str = BODY) -> None:
    messaging = on if isinstance(on, Messaging) else on.messaging
    event = sns_inbound(from_number=from_number, to_number=BUSINESS_NUMBER, body=body)
    messaging.bound(inbound_sns)(event, CONTEXT)


def _stored_outbound(messaging: Messaging) -> int:
    items = messaging.table.scan(
        FilterExpression="direction = :d AND sent_by <> :system",
        ExpressionAttributeValues={":d": "outbound", ":system": "system"},
    )["Items"]
    return len(items)


def _stored_inbound(messaging: Messaging) -> int:
    items = messaging.table.scan(
        FilterExpression="direction = :d", ExpressionAttributeValues={":d": "inbound"}
    )["Items"]
    return len(items)


def _thread_of_someone_else(staff_api: StaffApi) -> str:
    """A thread with messages, assigned to the other clinician (hidden from `clinician`)."""
    conversation_id = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    _text_in(staff_api, body=BODY)
    _text_in(staff_api, body=OTHER_BODY)
    assigned = call(
        staff_api.admin,
        "PUT",
        "/conversations/{conversation_id}/assignment",
        path_params={"conversation_id": conversation_id},
        body={"user_id": staff_api.other_clinician.user_id},
    )
    assert assigned.status == 204
    return conversation_id


def _read_thread(caller: Caller, conversation_id: str, **query: str) -> Any:
    return call(
        caller, "GET", THREAD, path_params={"conversation_id": conversation_id}, query=query
    )


# --- staff reads: decrypt only after authorization -----------------------------------------
def test_a_thread_the_caller_may_not_see_is_not_decrypted_and_the_refusal_is_audited(
    staff_api: StaffApi,
) -> None:
    hidden = _thread_of_someone_else(staff_api)
    kms_calls = record_operations(staff_api.messaging.kms)
    staff_api.audit.clear()

    response = _read_thread(staff_api.clinician, hidden)

    assert response.status == 404
    assert "Decrypt" not in kms_calls
    outcomes = [(e.action, e.outcome, e.actor) for e in staff_api.audit.events]
    assert outcomes == [("message.read", Outcome.NOT_FOUND, staff_api.clinician.user_id)]
    # The one it was assigned to reads it (and only then are the bodies decrypted).
    assert _read_thread(staff_api.other_clinician, hidden).status == 200
    assert kms_calls.count("Decrypt") == 2


@pytest.mark.parametrize("path", [THREAD, "/conversations", "/conversations/{conversation_id}"])
def test_an_idled_out_session_decrypts_nothing_although_its_reads_overlapped_the_touch(
    staff_api: StaffApi, path: str
) -> None:
    conversation_id = staff_api.contact(staff_api.admin, CLIENT_PHONE)  # it has a name
    _text_in(staff_api)
    assert call(staff_api.clinician, "GET", "/me").status == 200
    staff_api.messaging.clock.advance(minutes=15, seconds=1)
    kms_calls = record_operations(staff_api.messaging.kms)
    staff_api.audit.clear()

    response = call(
        staff_api.clinician, "GET", path, path_params={"conversation_id": conversation_id}
    )

    assert response.status == 401 and response.json == {"error": "sign in again"}
    assert "Decrypt" not in kms_calls
    assert [e.outcome for e in staff_api.audit.events] == [Outcome.DENIED]


def test_a_dead_session_outranks_a_missing_thread(staff_api: StaffApi) -> None:
    assert call(staff_api.clinician, "GET", "/me").status == 200
    staff_api.messaging.clock.advance(minutes=16)
    staff_api.audit.clear()
    assert _read_thread(staff_api.clinician, "no-such-conversation").status == 401
    assert [e.outcome for e in staff_api.audit.events] == [Outcome.DENIED]


def test_a_bad_cursor_on_a_hidden_thread_answers_exactly_like_a_missing_thread(
    staff_api: StaffApi,
) -> None:
    hidden = _thread_of_someone_else(staff_api)
    # The page is read alongside the conversation, but its error waits for the check.
    assert _read_thread(staff_api.clinician, hidden, cursor="bogus").status == 404
    assert _read_thread(staff_api.clinician, "no-such-conversation", cursor="bogus").status == 404
    assert _read_thread(staff_api.other_clinician, hidden, cursor="bogus").status == 400


def test_a_thread_read_appends_its_audit_event_and_counts_the_read(staff_api: StaffApi) -> None:
    conversation_id = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    _text_in(staff_api)
    staff_api.audit.clear()
    response = _read_thread(staff_api.clinician, conversation_id)
    assert response.status == 200 and len(response.json["items"]) == 1
    (event,) = staff_api.audit.events
    assert (event.action, event.outcome) == ("message.read", Outcome.SUCCESS)
    reads = staff_api.messaging.table.scan(
        FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": "READS#"}
    )["Items"]
    assert [int(r["reads"]) for r in reads] == [1]


# --- outbound accept: every check that can refuse comes before the first data key ----------
def _send(caller: Caller, conversation_id: str) -> Any:
    return call(
        caller,
        "POST",
        THREAD,
        path_params={"conversation_id": conversation_id},
        body={"body": OTHER_BODY},
    )


def _no_consent(staff_api: StaffApi) -> tuple[Caller, str]:
    _text_in(staff_api)  # the client texted first: a conversation without consent
    tenant = staff_api.messaging.directory.active_tenant("harbor")
    return staff_api.admin, staff_api.messaging.directory.conversation_id_for(tenant, CLIENT_PHONE)


def _opted_out(staff_api: StaffApi) -> tuple[Caller, str]:
    conversation_id = staff_api.contact(staff_api.admin, CLIENT_PHONE)  # plain_sms consent
    _text_in(staff_api, body="STOP")
    return staff_api.admin, conversation_id


def _someone_elses(staff_api: StaffApi) -> tuple[Caller, str]:
    return staff_api.clinician, _thread_of_someone_else(staff_api)


def _wiped_tenant(staff_api: StaffApi) -> tuple[Caller, str]:
    conversation_id = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    staff_api.messaging.store.set_tenant_status("harbor", TenantStatus.WIPED)
    return staff_api.admin, conversation_id


@pytest.mark.parametrize(
    ("refusal", "status"),
    [(_no_consent, 409), (_opted_out, 409), (_someone_elses, 404), (_wiped_tenant, 403)],
)
def test_a_refused_send_generates_no_data_key(
    staff_api: StaffApi, refusal: Callable[[StaffApi], tuple[Caller, str]], status: int
) -> None:
    # Given a send that one of accept's checks refuses
    caller, conversation_id = refusal(staff_api)
    kms_calls = record_operations(staff_api.messaging.kms)

    # When it is attempted
    response = _send(caller, conversation_id)

    # Then it is refused, and KMS (so CloudTrail) never saw a GenerateDataKey for it
    assert response.status == status
    assert "GenerateDataKey" not in kms_calls
    assert _stored_outbound(staff_api.messaging) == 0


def test_an_idled_out_send_is_refused_before_any_key_although_its_reads_carried_the_touch(
    staff_api: StaffApi,
) -> None:
    # Given a clinician's session idled out, and a thread they could otherwise text
    conversation_id = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    assert call(staff_api.clinician, "GET", "/me").status == 200
    staff_api.messaging.clock.advance(minutes=15, seconds=1)
    kms_calls = record_operations(staff_api.messaging.kms)
    staff_api.audit.clear()

    # When they send
    response = _send(staff_api.clinician, conversation_id)

    # Then they are signed out, audited as denied, and nothing was keyed or stored
    assert response.status == 401 and response.json == {"error": "sign in again"}
    assert kms_calls == []
    assert [e.outcome for e in staff_api.audit.events] == [Outcome.DENIED]
    assert _stored_outbound(staff_api.messaging) == 0


def test_an_accepted_send_generates_its_data_key_after_the_checks(staff_api: StaffApi) -> None:
    conversation_id = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    kms_calls = record_operations(staff_api.messaging.kms)
    assert _send(staff_api.admin, conversation_id).status == 202
    assert kms_calls == ["GenerateDataKey"]
    assert _stored_outbound(staff_api.messaging) == 1


# --- inbound: three round trips, same outcomes ---------------------------------------------
def test_a_warm_instance_spends_one_data_key_per_text_and_one_more_only_for_a_new_number(
    messaging: Messaging,
) -> None:
    kms_calls = record_operations(messaging.kms)
    _text_in(
        messaging, CLIENT_PHONE
    )  # a new instance, a first contact: the index key, two data keys
    assert kms_calls == ["Decrypt", "GenerateDataKey", "GenerateDataKey"]
    kms_calls.clear()
    _text_in(messaging, CLIENT_PHONE)
    assert kms_calls == ["GenerateDataKey"]
    kms_calls.clear()
    _text_in(messaging, OTHER_CLIENT_PHONE)  # a first contact on a warm instance
    assert kms_calls == ["GenerateDataKey", "GenerateDataKey"]
    assert _stored_inbound(messaging) == 3


# Codes botocore does not retry by itself, so the one injected failure reaches our code.
@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("dynamodb", "BatchGetItem", "InternalServerError"),  # the tenant and conversation
        ("kms", "GenerateDataKey", "KMSInternalException"),  # the body's key, in its wave
    ],
)
def test_a_fault_in_any_read_of_a_warm_inbound_parks_the_text(
    messaging: Messaging, service: str, operation: str, code: str
) -> None:
    _text_in(messaging)  # warms the instance: number and index key cached, conversation exists
    client = messaging.table.meta.client if service == "dynamodb" else messaging.kms
    fault = Fault(client, operation, code, times=1)  # one call fails, the others succeed

    _text_in(messaging, body=OTHER_BODY)

    assert fault.hits == 1 and _stored_inbound(messaging) == 1
    assert messaging.metrics.counts["InboundDeferred"] == 1
    event = messaging.sqs_event(messaging.retry_url)
    assert messaging.bound(retry_worker)(event, CONTEXT) == {"batchItemFailures": []}
    assert _stored_inbound(messaging) == 2


def test_a_read_fault_surfaces_as_its_typed_error(messaging: Messaging) -> None:
    _text_in(messaging)
    Fault(messaging.table.meta.client, "BatchGetItem", "InternalServerError", times=1)
    sms = InboundSms("aws", "dup-1", CLIENT_PHONE, BUSINESS_NUMBER, OTHER_BODY, "2026-11-30")
    with pytest.raises(DependencyError):
        messaging.runtime.inbound_service().receive(sms)


def test_a_text_for_a_wiped_tenant_stores_nothing(messaging: Messaging) -> None:
    _text_in(messaging)
    messaging.table.update_item(
        Key={"pk": "TENANT#harbor", "sk": "PROFILE"},
        UpdateExpression="SET #s = :w",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":w": "wiped"},
    )
    sms = InboundSms("aws", "wiped-1", CLIENT_PHONE, BUSINESS_NUMBER, OTHER_BODY, "2026-11-30")
    result = messaging.runtime.inbound_service().receive(sms)
    assert result.outcome is InboundOutcome.UNKNOWN_NUMBER
    assert messaging.metrics.counts["InboundUnknownNumber"] == 1
    assert _stored_inbound(messaging) == 1


def test_a_text_for_a_tenant_whose_key_is_disabled_stores_nothing(
    messaging: Messaging, tenant_keys: dict[str, str]
) -> None:
    _text_in(messaging)
    messaging.kms.disable_key(KeyId=tenant_keys["harbor"])
    sms = InboundSms("aws", "shred-1", CLIENT_PHONE, BUSINESS_NUMBER, OTHER_BODY, "2026-11-30")
    result = messaging.runtime.inbound_service().receive(sms)
    assert result.outcome is InboundOutcome.UNKNOWN_NUMBER
    assert messaging.metrics.counts["InboundForWipedTenant"] == 1
    assert _stored_inbound(messaging) == 1
    # The instance forgot the tenant: the next text looks its number up again.
    assert messaging.runtime.directory().known_conversation_id("harbor", CLIENT_PHONE) is None


def test_the_same_text_twice_on_a_warm_instance_is_stored_once(messaging: Messaging) -> None:
    _text_in(messaging)
    sms = InboundSms("aws", "twice-1", CLIENT_PHONE, BUSINESS_NUMBER, OTHER_BODY, "2026-11-30")
    first = messaging.runtime.inbound_service().receive(sms)
    again = messaging.runtime.inbound_service().receive(sms)
    assert (first.outcome, again.outcome) == (InboundOutcome.STORED, InboundOutcome.DUPLICATE)
    assert _stored_inbound(messaging) == 2


# --- the sender: the claim returns the message -----------------------------------------------
def test_a_send_for_a_message_that_does_not_exist_is_skipped_and_counted(
    messaging: Messaging,
) -> None:
    _text_in(messaging)
    tenant = messaging.directory.active_tenant("harbor")
    conversation_id = messaging.directory.conversation_id_for(tenant, CLIENT_PHONE)
    outcome = messaging.runtime.sender_service().send(
        MessageRef("harbor", conversation_id, "01NOSUCHID")
    )
    assert outcome is SendOutcome.SKIPPED
    assert messaging.metrics.counts["SendForUnknownMessage"] == 1


def test_a_message_claimed_by_another_sender_is_retried_later_not_sent_twice(
    messaging: Messaging,
) -> None:
    _text_in(messaging, body="HELP")  # the practice's HELP reply is queued for sending
    (queued,) = [
        item
        for item in messaging.table.scan()["Items"]
        if item.get("status") == MessageStatus.QUEUED.value
    ]
    ref = MessageRef("harbor", queued["conversation_id"], queued["message_id"])
    now = iso(messaging.clock.now())
    claimed = messaging.store.claim_for_sending(ref, now=now, lease_until="9999")
    assert claimed is not None and claimed.message_id == queued["message_id"]
    with pytest.raises(SendInProgressError):
        messaging.runtime.sender_service().send(ref)
    assert messaging.carrier.outbox() == []
