"""CareService on fakes: the crisis decision, who is paged, what a page and its audit carry,
and the after-hours call routed to the on-call clinician."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from functions.core.care import CareSettings, DateRange, OnCallRota
from functions.core.errors import DependencyError
from functions.core.models import AfterHours, Conversation, StaffUser, Tenant, TenantSettings
from functions.core.voice import IncomingCall, PlanAction
from functions.logic.access import Principal, Role
from functions.logic.audit import AuditEvent
from functions.logic.care import CareService
from functions.logic.pager import PageKind, Pager, PageRequest
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE
from tests.unit.test_voice_service import CELLS, NIGHT, TENANT, build
from tests.voice_fakes import CountingMetrics, FixedClock, RecordingAudit

pytestmark = pytest.mark.unit

MONDAY_10AM = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # New York
ADMIN = Principal("admin-1", TENANT, Role.ADMIN, "s", 0)
CRISIS = "I want to kill myself"
TENANT_RECORD = Tenant(TENANT, "Harbor Counseling", "help@harbor.example", 365)


@dataclass
class Store:
    settings: CareSettings = field(default_factory=CareSettings)
    fail: bool = False

    def get_care_settings(self, tenant_id: str) -> CareSettings:
        if self.fail:
            raise DependencyError("dynamodb unavailable")
        return self.settings

    def put_care_settings(self, tenant_id: str, settings: CareSettings) -> None:
        self.settings = settings

    def list_urgent(self, tenant_id: str) -> list[tuple[str, str]]:
        return []

    def clear_urgent(self, tenant_id: str, conversation_id: str) -> bool:
        return False


@dataclass
class Staff:
    active: set[str] = field(default_factory=lambda: {"ana", "ben", "admin-1"})

    def is_active_staff(self, tenant_id: str, user_id: str) -> bool:
        return tenant_id == TENANT and user_id in self.active

    def list_users(self, tenant_id: str) -> list[StaffUser]:
        return [
            StaffUser("admin-1", "a@harbor.example", "admin", True, "CONFIRMED"),
            StaffUser("admin-2", "b@harbor.example", "admin", False, "CONFIRMED"),
            StaffUser("ben", "ben@harbor.example", "clinician", True, "CONFIRMED"),
        ]


@dataclass
class Channel:
    name: str = "sms"
    requests: list[PageRequest] = field(default_factory=list)
    broken: bool = False

    def page(self, request: PageRequest) -> int:
        if self.broken:
            raise DependencyError("carrier down")
        self.requests.append(request)
        return len(request.user_ids)


@dataclass
class Care:
    service: CareService
    store: Store
    channel: Channel
    audit: RecordingAudit
    metrics: CountingMetrics


def care(settings: CareSettings | None = None, *, channels: tuple[Channel, ...] = ()) -> Care:
    store = Store(settings or CareSettings())
    channel = Channel()
    audit = RecordingAudit()
    metrics = CountingMetrics()
    pager = Pager(channels or (channel,), metrics)
    service = CareService(
        store, Staff, lambda: pager, lambda: audit, FixedClock(MONDAY_10AM), metrics
    )
    return Care(service, store, channel, audit, metrics)


def conversation(**changes: object) -> Conversation:
    base = Conversation(TENANT, "conv-1", b"sealed", "2026-11-30T14:00:00.000Z")
    return replace(base, **changes)  # type: ignore[arg-type]


ON_CALL_ANA = CareSettings(
    rota=OnCallRota(ranges=(DateRange("ana", "2026-11-30T00:00", "2026-12-01T00:00"),))
)


def test_given_a_crisis_text_then_the_reply_names_988_911_and_741741_and_it_is_flagged() -> None:
    found = care().service.check(TENANT_RECORD, conversation(), CRISIS)
    assert found is not None and found.flag
    assert all(r in found.reply for r in ("988", "911", "741741"))


def test_given_the_practices_own_crisis_reply_then_it_is_sent_as_written() -> None:
    found = care(CareSettings(crisis_reply="Call 911 now.")).service.check(
        TENANT_RECORD, None, CRISIS
    )
    assert found is not None and found.reply == "Call 911 now."


def test_given_an_opted_out_client_then_the_text_is_flagged_but_not_answered() -> None:
    found = care().service.check(TENANT_RECORD, conversation(opted_out=True), CRISIS)
    assert found is not None and found.flag and found.reply == ""


def test_given_a_conversation_already_flagged_then_there_is_no_second_reply_or_flag() -> None:
    flagged = conversation(urgent_at="2026-11-30T14:00:00.000Z")
    found = care().service.check(TENANT_RECORD, flagged, CRISIS)
    assert found is not None and not found.flag and found.reply == ""


def test_given_the_safety_net_off_then_nothing_is_checked() -> None:
    assert (
        care(CareSettings(crisis_enabled=False)).service.check(TENANT_RECORD, None, CRISIS) is None
    )


def test_given_the_settings_unreadable_then_the_built_in_net_still_flags() -> None:
    setup = care()
    setup.store.fail = True
    found = setup.service.check(TENANT_RECORD, None, CRISIS)
    assert found is not None and found.flag
    assert setup.metrics.counts["CareSettingsUnavailable"] == 1


class FlakyAudit(RecordingAudit):
    def __init__(self, *, fail: bool) -> None:
        super().__init__()
        self.fail = fail

    def record(self, event: AuditEvent) -> None:
        if self.fail:
            raise DependencyError("audit table unavailable")
        super().record(event)


@dataclass
class Steps:
    """The dedupe ledger in memory: steps finished on an earlier attempt are skipped."""

    finished: set[str] = field(default_factory=set)

    def claim(self, step: str) -> bool:
        return step not in self.finished

    def done(self, step: str) -> None:
        self.finished.add(step)


def _flag_and_page(setup: Care, conv: Conversation | None) -> None:
    found = setup.service.check(TENANT_RECORD, conv, CRISIS)
    assert found is not None and found.flag
    setup.service.page_urgent(TENANT_RECORD, conv, "conv-1", BUSINESS_NUMBER, MONDAY_10AM, Steps())


def test_given_someone_on_call_then_they_alone_are_paged_urgently() -> None:
    setup = care(ON_CALL_ANA)
    _flag_and_page(setup, conversation(assigned_to="ben"))
    assert [r.user_ids for r in setup.channel.requests] == [("ana",)]
    assert setup.channel.requests[0].kind is PageKind.URGENT


def test_given_no_rota_then_the_assigned_clinician_is_paged() -> None:
    setup = care()
    _flag_and_page(setup, conversation(assigned_to="ben"))
    assert [r.user_ids for r in setup.channel.requests] == [("ben",)]


def test_given_no_rota_and_nobody_assigned_then_the_enabled_admins_are_paged() -> None:
    setup = care()
    _flag_and_page(setup, conversation())
    assert [r.user_ids for r in setup.channel.requests] == [("admin-1",)]


def test_given_a_flag_then_the_audit_names_ids_and_counts_but_not_the_category() -> None:
    setup = care(ON_CALL_ANA)
    _flag_and_page(setup, conversation())
    [event] = setup.audit.events
    assert event.action == "conversation.flag_urgent"
    assert event.target == {
        "conversation_id": "conv-1",
        "paged": "ana",
        "pages_sent": "1",
        "channels_failed": "",
    }


def test_given_one_channel_failing_then_the_others_still_page_and_the_failure_is_audited() -> None:
    working = Channel("email")
    setup = care(ON_CALL_ANA, channels=(Channel("sms", broken=True), working))
    _flag_and_page(setup, conversation())
    assert len(working.requests) == 1
    assert setup.audit.events[0].target["channels_failed"] == "sms"


def test_given_an_ordinary_text_in_office_hours_then_no_page_is_asked_for() -> None:
    setup = care(ON_CALL_ANA)
    assert not setup.service.wants_after_hours_page(TENANT_RECORD, MONDAY_10AM)


def test_given_an_ordinary_text_on_a_holiday_then_the_on_call_gets_an_after_hours_page() -> None:
    setup = care(ON_CALL_ANA)
    holiday = replace(
        TENANT_RECORD, settings=TenantSettings(after_hours=AfterHours(holidays=("2026-11-30",)))
    )
    assert setup.service.wants_after_hours_page(holiday, MONDAY_10AM)
    setup.service.page_after_hours(holiday, BUSINESS_NUMBER, MONDAY_10AM, Steps())
    assert [(r.kind, r.user_ids) for r in setup.channel.requests] == [
        (PageKind.AFTER_HOURS, ("ana",))
    ]


def test_given_a_page_retried_then_only_the_channel_that_failed_pages_again() -> None:
    sms, email = Channel("sms", broken=True), Channel("email")
    setup = care(ON_CALL_ANA, channels=(sms, email))
    steps = Steps()
    setup.service.page_urgent(TENANT_RECORD, None, "conv-1", BUSINESS_NUMBER, MONDAY_10AM, steps)
    sms.broken = False
    setup.service.page_urgent(TENANT_RECORD, None, "conv-1", BUSINESS_NUMBER, MONDAY_10AM, steps)
    assert (len(sms.requests), len(email.requests)) == (1, 1)
    assert len(setup.audit.events) == 1


def test_given_the_audit_failing_then_the_page_raises_and_the_retry_audits_without_repaging() -> (
    None
):
    setup = care(ON_CALL_ANA)
    audit = FlakyAudit(fail=True)
    setup.service.audit = lambda: audit
    steps = Steps()
    with pytest.raises(DependencyError):
        setup.service.page_urgent(TENANT_RECORD, None, "c", BUSINESS_NUMBER, MONDAY_10AM, steps)
    audit.fail = False
    setup.service.page_urgent(TENANT_RECORD, None, "c", BUSINESS_NUMBER, MONDAY_10AM, steps)
    assert len(setup.channel.requests) == 1
    assert [e.action for e in audit.events] == ["conversation.flag_urgent"]


def test_given_a_rota_naming_a_departed_clinician_when_saved_then_it_is_refused() -> None:
    from functions.core.errors import ValidationError

    rota = OnCallRota(ranges=(DateRange("gone", "2026-11-30T00:00", "2026-12-01T00:00"),))
    with pytest.raises(ValidationError):
        care().service.update_settings(ADMIN, CareSettings(rota=rota))


def test_given_an_on_call_clinician_after_hours_then_a_call_rings_their_cell() -> None:
    # Given voice routed to ben, the after-hours rule on, and ana on call tonight
    voice = build()
    voice.route(("ben",))
    tenant = voice.messages.tenants[TENANT]
    hours = TenantSettings(after_hours=AfterHours(enabled=True))
    voice.messages.tenants[TENANT] = replace(tenant, settings=hours)
    voice.clock.current = NIGHT
    voice.service.on_call = lambda _tenant, _now: "ana"
    # When a client calls
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    # Then ana's cell rings, not the daytime route's
    assert plan.action is PlanAction.RING
    assert [t.number for t in plan.targets] == [CELLS["ana"]]
