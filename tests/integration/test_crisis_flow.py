"""The crisis safety net end to end on moto: an inbound crisis text is answered with crisis
resources, flagged urgent with the message, the on-call clinician paged without PHI (SMS to
their cell, e-mail through the staff topic) by the care pager from the table's stream, and
the flag audited, once even when the stream delivers the record twice; staff clear it."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pytest

from functions.container import Container
from functions.core.care import CareSettings, DateRange, OnCallRota
from functions.core.errors import TransientCarrierError
from functions.core.models import StaffUser
from functions.crypto.contexts import forwarding_number_location
from functions.dal.schema import PAGE_REQUEST_FILTER
from functions.dal.store.care import CareRecords
from functions.handlers import care_pager, inbound_sns, sender
from functions.logic.access import Principal, Role
from functions.logic.pager import PAGE_TEXT, PageKind
from local.apigw import LambdaContext
from tests.builders import sns_inbound
from tests.integration.conftest import TABLE_NAME, Messaging
from tests.integration.streams import TableStream
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE
from tests.voice_fakes import RecordingAudit

pytestmark = pytest.mark.integration

CONTEXT = LambdaContext("test")
CRISIS_TEXT = "I can't do this anymore, I want to kill myself tonight"
ON_CALL = "user-on-call"
ON_CALL_CELL = "+12065550177"
ADMIN = Principal("user-admin", "harbor", Role.ADMIN, "s1", 0)


class Roster:
    """Harbor's staff: the on-call clinician and an admin, both active."""

    def is_active_staff(self, tenant_id: str, user_id: str) -> bool:
        return tenant_id == "harbor" and user_id in {ON_CALL, ADMIN.user_id}

    def list_users(self, tenant_id: str) -> list[StaffUser]:
        return [StaffUser(ADMIN.user_id, "admin@harbor.example", "admin", True, "CONFIRMED")]


@dataclass
class Crisis:
    messaging: Messaging
    runtime: Container
    audit: RecordingAudit
    stream: TableStream

    def page(self, *, times: int = 1) -> list[dict[str, Any]]:
        """What Lambda's event source hands the care pager next (`times` over, as a retried
        or duplicated delivery would), and what the pager answered each time."""
        event = self.stream.event(PAGE_REQUEST_FILTER)
        if not event["Records"]:
            return []
        return [care_pager.handler.bound(self.runtime)(event, CONTEXT) for _ in range(times)]


@pytest.fixture
def crisis(messaging: Messaging) -> Crisis:
    audit = RecordingAudit()
    # The care pager's deployed settings; the audit sink and the staff directory are fakes.
    settings = messaging.runtime.settings.model_copy(
        update={"audit_table_name": "unused-audit", "user_pool_id": "unused-pool"}
    )
    runtime = Container(
        settings,
        clients=messaging.runtime.clients,
        ports=replace(messaging.runtime.ports, users=Roster(), audit_sink=audit),
    )
    record = messaging.cipher.encrypt(forwarding_number_location("harbor", ON_CALL), ON_CALL_CELL)
    runtime.call_store().put_forwarding_record("harbor", ON_CALL, record.to_bytes())
    # On call all of Monday 2026-11-30 (the harness's clock: Monday 10:00 in New York).
    rota = OnCallRota(ranges=(DateRange(ON_CALL, "2026-11-30T00:00", "2026-12-01T00:00"),))
    runtime.care_service().update_settings(ADMIN, CareSettings(rota=rota))
    return Crisis(messaging, runtime, audit, TableStream(messaging.runtime.clients, TABLE_NAME))


def _text(messaging: Messaging, runtime: Container, body: str, inbound_id: str) -> None:
    event = sns_inbound(
        from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=body, inbound_id=inbound_id
    )
    inbound_sns.handler.bound(runtime)(event, CONTEXT)


def _send_queued(messaging: Messaging, runtime: Container) -> None:
    event = messaging.sqs_event(messaging.outbound_url)
    if event["Records"]:
        sender.handler.bound(runtime)(event, CONTEXT)
        messaging.delete_all(messaging.outbound_url, event, set())


def _staff_emails(messaging: Messaging) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in messaging.receive(messaging.staff_inbox_url)]


def test_a_crisis_text_pages_nobody_on_the_request_path(crisis: Crisis) -> None:
    _text(crisis.messaging, crisis.runtime, CRISIS_TEXT, "in-1")
    assert crisis.messaging.carrier.outbox(ON_CALL_CELL) == []
    assert crisis.audit.events == []


def test_a_crisis_text_is_answered_flagged_paged_and_audited(crisis: Crisis) -> None:
    messaging, runtime, audit = crisis.messaging, crisis.runtime, crisis.audit
    _text(messaging, runtime, CRISIS_TEXT, "in-1")
    assert crisis.page() == [{"batchItemFailures": []}]
    _send_queued(messaging, runtime)

    to_client = [s.body for s in messaging.carrier.outbox(CLIENT_PHONE)]
    assert len(to_client) == 1
    assert all(r in to_client[0] for r in ("988", "911", "741741"))

    # The page: the fixed wording only, from the number the client texted.
    pages = messaging.carrier.outbox(ON_CALL_CELL)
    assert [p.body for p in pages] == [PAGE_TEXT[PageKind.URGENT]]
    assert pages[0].origination_number == BUSINESS_NUMBER

    emails = [e for e in _staff_emails(messaging) if e.get("Subject", "").startswith("Urgent")]
    assert len(emails) == 1
    assert "kill" not in emails[0]["Message"] and CLIENT_PHONE not in emails[0]["Message"]

    urgent = CareRecords(messaging.table).list_urgent("harbor")
    conversation_id = urgent[0][0]
    assert messaging.store.get_conversation("harbor", conversation_id).urgent_at == urgent[0][1]

    flagged = [e for e in audit.events if e.action == "conversation.flag_urgent"]
    assert [e.target["paged"] for e in flagged] == [ON_CALL]
    assert flagged[0].target["conversation_id"] == conversation_id


def test_a_page_request_delivered_twice_pages_and_audits_once(crisis: Crisis) -> None:
    _text(crisis.messaging, crisis.runtime, CRISIS_TEXT, "in-1")
    crisis.page(times=2)
    assert len(crisis.messaging.carrier.outbox(ON_CALL_CELL)) == 1
    urgent = [e for e in _staff_emails(crisis.messaging) if e["Subject"].startswith("Urgent")]
    assert len(urgent) == 1
    assert [e.action for e in crisis.audit.events] == ["conversation.flag_urgent"]


def test_a_failed_sms_page_is_reported_and_its_retry_pages_only_by_sms(crisis: Crisis) -> None:
    messaging, runtime = crisis.messaging, crisis.runtime
    _text(messaging, runtime, CRISIS_TEXT, "in-1")
    event = crisis.stream.event(PAGE_REQUEST_FILTER)
    messaging.carrier.fail_next(TransientCarrierError("carrier down"))
    failed = care_pager.handler.bound(runtime)(event, CONTEXT)
    assert failed == {"batchItemFailures": [{"itemIdentifier": _position(event)}]}
    assert messaging.carrier.outbox(ON_CALL_CELL) == []
    assert care_pager.handler.bound(runtime)(event, CONTEXT) == {"batchItemFailures": []}
    assert len(messaging.carrier.outbox(ON_CALL_CELL)) == 1
    assert len([e for e in _staff_emails(messaging) if e["Subject"].startswith("Urgent")]) == 1
    assert len(crisis.audit.events) == 1


def _position(event: dict[str, Any]) -> str:
    return str(event["Records"][0]["dynamodb"]["SequenceNumber"])


def test_a_second_crisis_text_on_a_flagged_conversation_pages_and_replies_once(
    crisis: Crisis,
) -> None:
    messaging, runtime = crisis.messaging, crisis.runtime
    _text(messaging, runtime, CRISIS_TEXT, "in-1")
    _text(messaging, runtime, "I really want to die", "in-2")
    crisis.page()
    _send_queued(messaging, runtime)
    assert len(messaging.carrier.outbox(CLIENT_PHONE)) == 1
    assert len(messaging.carrier.outbox(ON_CALL_CELL)) == 1


def test_an_ordinary_text_in_office_hours_pages_nobody_and_flags_nothing(crisis: Crisis) -> None:
    messaging, runtime = crisis.messaging, crisis.runtime
    _text(messaging, runtime, "This homework is killing me, see you Thursday", "in-1")
    assert crisis.page() == []
    _send_queued(messaging, runtime)
    assert messaging.carrier.outbox() == []
    assert CareRecords(messaging.table).list_urgent("harbor") == []


def test_an_ordinary_text_after_hours_pages_the_on_call_with_the_after_hours_wording(
    crisis: Crisis,
) -> None:
    messaging, runtime = crisis.messaging, crisis.runtime
    messaging.clock.advance(hours=10)  # Monday 20:00 in New York, still in the rota's range
    _text(messaging, runtime, "Can we move Thursday?", "in-1")
    crisis.page(times=2)
    assert [p.body for p in messaging.carrier.outbox(ON_CALL_CELL)] == [
        PAGE_TEXT[PageKind.AFTER_HOURS]
    ]


def test_clearing_the_flag_removes_it_from_the_urgent_list(crisis: Crisis) -> None:
    messaging, runtime = crisis.messaging, crisis.runtime
    _text(messaging, runtime, CRISIS_TEXT, "in-1")
    records = CareRecords(messaging.table)
    conversation_id = records.list_urgent("harbor")[0][0]
    runtime.care_service().clear_urgent(ADMIN, conversation_id)
    assert records.list_urgent("harbor") == []
    assert messaging.store.get_conversation("harbor", conversation_id).urgent_at is None
