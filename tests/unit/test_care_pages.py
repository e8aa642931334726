"""The care pager's service and records on fakes: a stream record read as a page request,
the right clinician paged for it, each step once, and a page that did not finish reported
where the stream must resume."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.core.care import CareSettings, DateRange, OnCallRota
from functions.core.errors import NotFoundError, TenantUnavailableError
from functions.core.models import Conversation, Tenant
from functions.dal.store.page_stream import page_due
from functions.logic.care import CareService
from functions.logic.care_pages import CarePages, PageDue
from functions.logic.pager import PageKind, Pager, PageRequest
from functions.logic.ports import ConversationRead
from tests.phi_samples import BUSINESS_NUMBER
from tests.unit.test_care_service import Channel, Staff, Steps, Store
from tests.unit.test_voice_service import TENANT
from tests.voice_fakes import CountingMetrics, FixedClock, RecordingAudit

pytestmark = pytest.mark.unit

NIGHT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Monday 21:00 in New York
ON_CALL_ANA = CareSettings(
    rota=OnCallRota(ranges=(DateRange("ana", "2026-11-30T00:00", "2026-12-01T00:00"),))
)


@dataclass
class Found:
    value: Any

    def get(self) -> Any:
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


@dataclass
class Reads:
    tenant: Tenant | Exception
    conversation: Conversation | Exception

    def tenant_and_conversation(self, tenant_id: str, conversation_id: str) -> ConversationRead:
        return ConversationRead(Found(self.tenant), Found(self.conversation))


class Directory:
    def admit(self, read: Any) -> Tenant:
        tenant: Tenant = read.get()
        if tenant.tenant_id != TENANT:
            raise TenantUnavailableError("wiped")
        return tenant


@dataclass
class Ledger:
    pages: dict[str, Steps] = field(default_factory=dict)

    def steps(self, tenant_id: str, page_key: str, now: datetime) -> Steps:
        return self.pages.setdefault(page_key, Steps())


@dataclass
class Setup:
    pages: CarePages
    channels: tuple[Channel, ...]
    audit: RecordingAudit
    reads: Reads
    ledger: Ledger


def setup(*channels: Channel) -> Setup:
    channels = channels or (Channel(),)
    metrics = CountingMetrics()
    audit = RecordingAudit()
    pager = Pager(channels, metrics)
    care = CareService(
        Store(ON_CALL_ANA), Staff, lambda: pager, lambda: audit, FixedClock(NIGHT), metrics
    )
    conversation = replace(
        Conversation(TENANT, "conv-1", b"sealed", "2026-11-30T14:00:00.000Z"),
        business_number=BUSINESS_NUMBER,
    )
    reads = Reads(Tenant(TENANT, "Harbor Counseling", "help@harbor.example", 365), conversation)
    ledger = Ledger()
    pages = CarePages(care, Directory(), reads, ledger, FixedClock(NIGHT), metrics)
    return Setup(pages, channels, audit, reads, ledger)


def due(
    kind: PageKind = PageKind.URGENT, key: str = "URGENT#conv-1#t", position: str = "7"
) -> PageDue:
    return PageDue(TENANT, kind, "conv-1", key, NIGHT, position)


def stream_record(sort_key: str, **image: str) -> dict[str, Any]:
    new_image = {"pk": {"S": f"TENANT#{TENANT}"}, "sk": {"S": sort_key}}
    new_image |= {name: {"S": value} for name, value in image.items()}
    return {"eventName": "INSERT", "dynamodb": {"NewImage": new_image, "SequenceNumber": "42"}}


# --- the stream record --------------------------------------------------------------------
def test_an_urgent_markers_insert_is_an_urgent_page_keyed_by_its_flag() -> None:
    found = page_due(
        stream_record(
            "URGENT#conv-1", conversation_id="conv-1", urgent_at="2026-12-01T02:00:00.000Z"
        )
    )
    assert found == PageDue(
        TENANT, PageKind.URGENT, "conv-1", "URGENT#conv-1#2026-12-01T02:00:00.000Z", NIGHT, "42"
    )


def test_an_after_hours_request_is_keyed_by_its_message() -> None:
    found = page_due(
        stream_record(
            "PAGE#conv-1#msg-9", conversation_id="conv-1", requested_at="2026-12-01T02:00:00.000Z"
        )
    )
    assert found is not None
    assert (found.kind, found.page_key) == (PageKind.AFTER_HOURS, "PAGE#conv-1#msg-9")


def test_any_other_insert_or_a_modify_is_no_page() -> None:
    assert page_due(stream_record("MSG#1", conversation_id="conv-1")) is None
    modified = stream_record("URGENT#conv-1", conversation_id="conv-1", urgent_at="x")
    assert page_due({**modified, "eventName": "MODIFY"}) is None


# --- paging ---------------------------------------------------------------------------------
def test_an_urgent_page_reaches_the_on_call_from_the_number_the_client_texted() -> None:
    s = setup()
    assert s.pages.page_all([due()]) is None
    [request] = s.channels[0].requests
    assert request == PageRequest(TENANT, ("ana",), PageKind.URGENT, BUSINESS_NUMBER)
    assert [e.action for e in s.audit.events] == ["conversation.flag_urgent"]


def test_the_same_request_delivered_twice_pages_and_audits_once() -> None:
    s = setup()
    s.pages.page_all([due(), due()])
    assert len(s.channels[0].requests) == 1
    assert len(s.audit.events) == 1


def test_a_failed_channel_reports_its_record_and_the_retry_pages_only_that_channel() -> None:
    sms, email = Channel("sms", broken=True), Channel("email")
    s = setup(sms, email)
    later = due(PageKind.AFTER_HOURS, "PAGE#conv-1#m2", "8")
    assert s.pages.page_all([due(), later]) == "7"
    assert later.page_key not in s.ledger.pages  # not begun: the stream resumes before it
    sms.broken = False
    assert s.pages.page_all([due(), later]) is None
    assert [r.kind for r in sms.requests] == [PageKind.URGENT, PageKind.AFTER_HOURS]
    assert [r.kind for r in email.requests] == [PageKind.URGENT, PageKind.AFTER_HOURS]


def test_a_deleted_conversation_still_pages_without_a_practice_number() -> None:
    s = setup()
    s.reads.conversation = NotFoundError("conversation")
    s.pages.page_all([due()])
    assert s.channels[0].requests[0].from_number is None


def test_a_wiped_tenant_pages_nobody_and_is_not_retried() -> None:
    s = setup()
    s.reads.tenant = Tenant("gone", "Gone", "x@gone.example", 365)
    assert s.pages.page_all([due()]) is None
    assert s.channels[0].requests == []
