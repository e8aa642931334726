"""VoiceService on in-memory fakes: routing, voicemail, text-back and the carrier's copy.

Each test drives the service as a carrier adapter would (incoming_call -> screen_answer ->
call_finished -> voicemail_recorded) and checks what was stored, sent and audited."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from functions.core.errors import DependencyError, ValidationError
from functions.core.models import AfterHours, ConsentMode, ConsentRecord, TenantSettings
from functions.core.voice import (
    MAX_VOICEMAIL_BYTES,
    CallOutcome,
    CallReport,
    CallStatus,
    IncomingCall,
    NextAction,
    NumberRouting,
    PlanAction,
    RingStrategy,
    ScreenDecision,
    VoicemailRecording,
    VoiceSettings,
)
from functions.crypto.contexts import forwarding_number_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.access import Principal, Role
from functions.logic.outbound import OutboundService
from functions.logic.tenants import TenantDirectory, TenantSpec, provision_tenant
from functions.logic.voice import VoiceService
from functions.logic.voice_admin import VoiceAdmin
from tests.fakes import FakeKeyProvider, RecordingVoiceCarrier
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE, OTHER_BUSINESS_NUMBER
from tests.voice_fakes import (
    CountingMetrics,
    FixedClock,
    InMemoryCalls,
    InMemoryMessages,
    InMemoryOutboundQueue,
    InMemoryVoicemails,
    RecordingAudit,
    RecordingNotifier,
    Roster,
    StubbornVoiceCarrier,
)

pytestmark = pytest.mark.unit

TENANT = "harbor"
CELLS = {"ana": "+12065550171", "ben": "+12065550172", "cy": "+12065550173"}
OFFICE_HOURS = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
NIGHT = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 23:00 in New York
AUDIO = b"RIFF....WAVEfmt fake audio frames"


@dataclass
class Voice:
    service: VoiceService
    messages: InMemoryMessages
    calls: InMemoryCalls
    voicemails: InMemoryVoicemails
    carrier: RecordingVoiceCarrier | StubbornVoiceCarrier
    queue: InMemoryOutboundQueue
    notifier: RecordingNotifier
    audit: RecordingAudit
    metrics: CountingMetrics
    roster: Roster
    clock: FixedClock
    cipher: EnvelopeCipher

    def route(
        self,
        user_ids: tuple[str, ...] = ("ana",),
        strategy: RingStrategy = RingStrategy.SEQUENTIAL,
        **settings: object,
    ) -> None:
        """Voice on, BUSINESS_NUMBER routed to `user_ids`, each enabled with a cell."""
        for user_id, cell in CELLS.items():
            record = self.cipher.encrypt(forwarding_number_location(TENANT, user_id), cell)
            self.calls.put_forwarding_record(TENANT, user_id, record.to_bytes())
            self.roster.active.add((TENANT, user_id))
        route = NumberRouting(BUSINESS_NUMBER, user_ids, strategy, ring_seconds=15)
        self.calls.put_voice_settings(
            TENANT,
            VoiceSettings(enabled=True, routes=(route,), **settings),  # type: ignore[arg-type]
        )

    def ring(self, carrier_call_id: str = "CA-1") -> str:
        plan = self.service.incoming_call(
            IncomingCall("simulated", carrier_call_id, BUSINESS_NUMBER, CLIENT_PHONE, "t")
        )
        return plan.call_id

    def call(self, call_id: str) -> object:
        tenant_id, conversation_id, call_ulid = call_id.split("/")
        return self.calls.get_call(tenant_id, conversation_id, call_ulid)

    def give_consent(self, call_id: str, *, opted_out: bool = False) -> None:
        key = (TENANT, call_id.split("/")[1])
        consent = ConsentRecord(ConsentMode.PLAIN_SMS, "ana", "2026-11-01T00:00:00Z", "v1")
        self.messages.conversations[key] = replace(
            self.messages.conversations[key], consent=consent, opted_out=opted_out
        )


def build(
    carrier: RecordingVoiceCarrier | StubbornVoiceCarrier | None = None,
    *,
    numbers: tuple[str, ...] = (BUSINESS_NUMBER,),
    voice_only: frozenset[str] = frozenset(),
) -> Voice:
    messages = InMemoryMessages()
    cipher = EnvelopeCipher(FakeKeyProvider())
    spec = TenantSpec(TENANT, "Harbor Counseling", "help@harbor.example", 365, numbers)
    provision_tenant(spec, messages, cipher)
    directory = TenantDirectory(messages, cipher)
    clock = FixedClock(OFFICE_HOURS)
    metrics = CountingMetrics()
    queue = InMemoryOutboundQueue()
    calls = InMemoryCalls(messages)
    voicemails = InMemoryVoicemails()
    notifier = RecordingNotifier()
    audit = RecordingAudit()
    roster = Roster()
    chosen = carrier or RecordingVoiceCarrier()
    outbound = OutboundService(directory, messages, cipher, queue, clock, metrics)  # type: ignore[arg-type]
    service = VoiceService(
        directory=directory,
        store=messages,  # type: ignore[arg-type]
        calls=calls,
        settings=calls,
        voicemails=voicemails,
        carrier=chosen,
        cipher=cipher,
        outbound=outbound,
        notifier=notifier,
        audit=audit,
        clock=clock,
        metrics=metrics,
        staff=lambda: roster,
        voice_only_numbers=voice_only,
    )
    return Voice(
        service, messages, calls, voicemails, chosen, queue, notifier, audit, metrics, roster,
        clock, cipher,
    )  # fmt: skip


@pytest.fixture
def voice() -> Voice:
    return build()


def admin_of(voice: Voice) -> VoiceAdmin:
    """The staff-facing voice settings over the same stores and roster."""
    return VoiceAdmin(voice.calls, voice.cipher, lambda: voice.roster)


def missed(voice: Voice, call_id: str) -> None:
    step = voice.service.call_finished(CallReport(call_id, CallOutcome.NO_ANSWER))
    assert step.action is NextAction.VOICEMAIL


def recording(call_id: str, **changes: object) -> VoicemailRecording:
    fields: dict[str, object] = {
        "call_id": call_id,
        "audio": AUDIO,
        "content_type": "audio/wav",
        "duration_seconds": 7,
        "carrier_recording_id": "RE-1",
    }
    return VoicemailRecording(**{**fields, **changes})  # type: ignore[arg-type]


ADMIN = Principal("admin-1", TENANT, Role.ADMIN, "s", 0)


# --- inbound routing -------------------------------------------------------------------


def test_a_sequential_route_rings_its_clinicians_in_order_under_the_business_number(
    voice: Voice,
) -> None:
    voice.route(("ben", "ana"))
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    assert plan.action is PlanAction.RING
    assert [(t.user_id, t.number) for t in plan.targets] == [
        ("ben", CELLS["ben"]),
        ("ana", CELLS["ana"]),
    ]
    assert (plan.strategy, plan.ring_seconds) == (RingStrategy.SEQUENTIAL, 15)
    assert plan.caller_id == BUSINESS_NUMBER


def test_a_simultaneous_route_rings_everyone_at_once(voice: Voice) -> None:
    voice.route(("ana", "ben", "cy"), RingStrategy.SIMULTANEOUS)
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    assert plan.strategy is RingStrategy.SIMULTANEOUS
    assert {t.user_id for t in plan.targets} == {"ana", "ben", "cy"}


def test_the_screening_prompt_names_the_practice_and_nothing_about_the_caller(
    voice: Voice,
) -> None:
    voice.route()
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    assert "Harbor Counseling" in plan.screening_prompt
    assert not any(ch.isdigit() for ch in plan.screening_prompt.replace("Press 1", ""))


def test_after_hours_a_call_goes_straight_to_voicemail(voice: Voice) -> None:
    # Given the practice's after-hours rule is on and it is night in New York
    voice.route()
    tenant = voice.messages.tenants[TENANT]
    hours = AfterHours(enabled=True, text="We are closed.")
    voice.messages.tenants[TENANT] = replace(tenant, settings=TenantSettings(after_hours=hours))
    voice.clock.current = NIGHT
    # When a client calls
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    # Then nobody is rung: greeting and voicemail
    assert plan.action is PlanAction.VOICEMAIL
    assert plan.targets == ()
    assert "Harbor Counseling" in plan.greeting.text
    assert voice.call(plan.call_id).status is CallStatus.AWAITING_VOICEMAIL  # type: ignore[attr-defined]


def test_a_number_nobody_is_routed_to_goes_to_voicemail(voice: Voice) -> None:
    voice.route()
    voice.calls.put_voice_settings(TENANT, VoiceSettings(enabled=True))
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    assert plan.action is PlanAction.VOICEMAIL


def test_a_routed_clinician_without_a_forwarding_cell_is_not_rung(voice: Voice) -> None:
    voice.route(("ana", "ben"))
    voice.calls.delete_forwarding_record(TENANT, "ana")
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    assert [t.user_id for t in plan.targets] == ["ben"]


def test_with_voice_off_a_call_is_rejected_and_nothing_is_stored(voice: Voice) -> None:
    voice.route()
    voice.calls.put_voice_settings(TENANT, VoiceSettings(enabled=False))
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    assert (plan.action, plan.call_id) == (PlanAction.REJECT, "")
    assert (voice.calls.calls, voice.messages.conversations, voice.audit.events) == ({}, {}, [])


def test_a_call_to_a_number_no_practice_holds_is_rejected_and_nothing_is_stored(
    voice: Voice,
) -> None:
    voice.route()
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", OTHER_BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    assert (plan.action, plan.call_id) == (PlanAction.REJECT, "")
    assert (voice.calls.calls, voice.messages.conversations, voice.audit.events) == ({}, {}, [])


def test_a_repeated_incoming_webhook_records_and_audits_one_call(voice: Voice) -> None:
    voice.route()
    first, again = voice.ring("CA-9"), voice.ring("CA-9")
    assert first == again
    assert len(voice.calls.calls) == 1
    assert voice.audit.actions.count("call.received") == 1


# --- screening ------------------------------------------------------------------------


def test_the_first_acceptance_wins_and_a_later_one_hangs_up(voice: Voice) -> None:
    voice.route(("ana", "ben"), RingStrategy.SIMULTANEOUS)
    call_id = voice.ring()
    assert voice.service.screen_answer(call_id, "ben", True) is ScreenDecision.CONNECT
    assert voice.service.screen_answer(call_id, "ana", True) is ScreenDecision.HANG_UP
    assert voice.call(call_id).answered_by == "ben"  # type: ignore[attr-defined]


def test_a_repeated_acceptance_from_the_winner_still_connects(voice: Voice) -> None:
    voice.route(("ana", "ben"))
    call_id = voice.ring()
    voice.service.screen_answer(call_id, "ana", True)
    assert voice.service.screen_answer(call_id, "ana", True) is ScreenDecision.CONNECT


def test_a_decline_hangs_up_that_leg_and_leaves_the_call_ringing(voice: Voice) -> None:
    voice.route(("ana", "ben"))
    call_id = voice.ring()
    assert voice.service.screen_answer(call_id, "ana", False) is ScreenDecision.HANG_UP
    assert voice.call(call_id).status is CallStatus.RINGING  # type: ignore[attr-defined]


# --- missed calls and text-back --------------------------------------------------------


def test_a_missed_call_goes_to_voicemail_with_the_practice_greeting(voice: Voice) -> None:
    voice.route(max_voicemail_seconds=90)
    call_id = voice.ring()
    step = voice.service.call_finished(CallReport(call_id, CallOutcome.BUSY))
    assert step.action is NextAction.VOICEMAIL
    assert "Harbor Counseling" in step.greeting.text
    assert step.max_voicemail_seconds == 90


def test_an_answered_call_ends_without_voicemail(voice: Voice) -> None:
    voice.route()
    call_id = voice.ring()
    voice.service.screen_answer(call_id, "ana", True)
    step = voice.service.call_finished(
        CallReport(call_id, CallOutcome.ANSWERED, answered_by="ana", duration_seconds=42)
    )
    assert step.action is NextAction.HANG_UP
    assert voice.call(call_id).duration_seconds == 42  # type: ignore[attr-defined]


def test_a_missed_call_texts_back_once_when_the_client_consented(voice: Voice) -> None:
    voice.route(missed_call_text_enabled=True)
    call_id = voice.ring()
    voice.give_consent(call_id)
    missed(voice, call_id)
    missed(voice, call_id)  # the carrier repeats its report
    assert len(voice.messages.messages) == 1
    assert len(voice.queue.enqueued) == 1
    assert voice.messages.messages[0].sent_by == "voice"


def test_a_missed_call_sends_no_text_without_plain_text_consent(voice: Voice) -> None:
    voice.route(missed_call_text_enabled=True)
    call_id = voice.ring()  # a first-time caller: a call never grants consent
    missed(voice, call_id)
    assert voice.messages.messages == []
    assert voice.metrics.counts["MissedCallTextNotAllowed"] == 1


def test_a_missed_call_sends_no_text_to_a_client_who_opted_out(voice: Voice) -> None:
    voice.route(missed_call_text_enabled=True)
    call_id = voice.ring()
    voice.give_consent(call_id, opted_out=True)
    missed(voice, call_id)
    assert voice.messages.messages == []
    assert voice.queue.enqueued == []


def test_no_text_back_when_the_practice_left_it_off(voice: Voice) -> None:
    voice.route()
    call_id = voice.ring()
    voice.give_consent(call_id)
    missed(voice, call_id)
    assert voice.messages.messages == []


# --- voicemail ------------------------------------------------------------------------


def test_a_voicemail_is_sealed_stored_then_the_carrier_copy_deleted(voice: Voice) -> None:
    voice.route()
    call_id = voice.ring()
    missed(voice, call_id)
    voice.service.voicemail_recorded(recording(call_id))
    [sealed] = voice.voicemails.objects.values()
    assert AUDIO not in sealed
    assert voice.carrier.deleted == ["RE-1"]
    assert voice.call(call_id).status is CallStatus.VOICEMAIL  # type: ignore[attr-defined]
    assert voice.notifier.notified == [(TENANT, "Harbor Counseling")]
    assert "voicemail.stored" in voice.audit.actions
    conversation_id, call_ulid = call_id.split("/")[1:]
    assert voice.service.voicemail_audio(ADMIN, conversation_id, call_ulid).audio == AUDIO


def test_the_carrier_copy_is_deleted_only_after_ours_is_stored() -> None:
    stored_when_deleted: list[int] = []

    class WatchingCarrier(RecordingVoiceCarrier):
        def delete_recording(self, carrier_recording_id: str) -> None:
            stored_when_deleted.append(len(voice.voicemails.objects))
            super().delete_recording(carrier_recording_id)

    voice = build(WatchingCarrier())
    voice.route()
    call_id = voice.ring()
    missed(voice, call_id)
    voice.service.voicemail_recorded(recording(call_id))
    assert stored_when_deleted == [1]


def test_a_duplicate_voicemail_callback_stores_it_once(voice: Voice) -> None:
    voice.route()
    call_id = voice.ring()
    missed(voice, call_id)
    voice.service.voicemail_recorded(recording(call_id))
    voice.service.voicemail_recorded(recording(call_id))
    assert voice.voicemails.puts == 1
    assert voice.notifier.notified == [(TENANT, "Harbor Counseling")]
    assert voice.audit.actions.count("voicemail.stored") == 1


def test_a_voicemail_over_the_size_bound_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as raised:
        recording("harbor/conv/01CALL", audio=b"\0" * (MAX_VOICEMAIL_BYTES + 1))
    assert raised.value.field == "audio"


def test_a_voicemail_over_the_duration_bound_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as raised:
        recording("harbor/conv/01CALL", duration_seconds=3600)
    assert raised.value.field == "duration_seconds"


# --- the carrier's copy when its delete fails -------------------------------------------


def test_a_failed_carrier_delete_keeps_the_voicemail_and_marks_the_copy_for_the_sweep() -> None:
    # Given a carrier that cannot delete right now
    voice = build(StubbornVoiceCarrier())
    voice.route()
    call_id = voice.ring()
    missed(voice, call_id)
    # When the voicemail arrives
    voice.service.voicemail_recorded(recording(call_id))
    # Then ours is stored and in the thread, and the carrier's copy is remembered
    assert voice.call(call_id).voicemail is not None  # type: ignore[attr-defined]
    assert len(voice.voicemails.objects) == 1
    assert [p.carrier_recording_id for p in voice.calls.pending_deletes.values()] == ["RE-1"]
    assert voice.metrics.counts["CarrierRecordingDeleteFailed"] == 1


def test_the_sweep_deletes_a_remembered_carrier_copy_once_the_carrier_recovers() -> None:
    carrier = StubbornVoiceCarrier()
    voice = build(carrier)
    voice.route()
    call_id = voice.ring()
    missed(voice, call_id)
    voice.service.voicemail_recorded(recording(call_id))
    assert voice.service.sweep_carrier_recordings() == 0  # still failing: stays marked
    assert len(voice.calls.pending_deletes) == 1
    carrier.failing = False
    assert voice.service.sweep_carrier_recordings() == 1
    assert (carrier.deleted, voice.calls.pending_deletes) == (["RE-1"], {})


def test_when_even_the_marker_cannot_be_written_the_adapter_is_told_to_retry() -> None:
    carrier = StubbornVoiceCarrier()
    voice = build(carrier)
    voice.route()
    call_id = voice.ring()
    missed(voice, call_id)
    voice.calls.fail_marking_pending = True
    with pytest.raises(DependencyError):
        voice.service.voicemail_recorded(recording(call_id))
    # The retry finds ours stored: it only deletes, nothing stored twice
    carrier.failing = False
    voice.service.voicemail_recorded(recording(call_id))
    assert (voice.voicemails.puts, carrier.deleted) == (1, ["RE-1"])


# --- routed clinicians must be enabled staff ---------------------------------------------


def test_a_disabled_clinician_is_skipped_when_ringing(voice: Voice) -> None:
    voice.route(("ana", "ben"))
    voice.roster.active.discard((TENANT, "ana"))
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    assert [t.user_id for t in plan.targets] == ["ben"]


def test_a_call_whose_routed_clinicians_are_all_disabled_goes_to_voicemail(voice: Voice) -> None:
    voice.route(("ana",))
    voice.roster.active.clear()
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    assert plan.action is PlanAction.VOICEMAIL


def test_a_clinician_is_not_rung_when_the_staff_directory_cannot_answer(voice: Voice) -> None:
    voice.route(("ana",))

    def unavailable() -> Roster:
        raise DependencyError("cognito unavailable")

    voice.service.staff = unavailable
    plan = voice.service.incoming_call(
        IncomingCall("simulated", "CA-1", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    assert plan.action is PlanAction.VOICEMAIL
    assert voice.metrics.counts["RingTargetCheckFailed"] == 1


def test_settings_routing_to_someone_not_on_active_staff_are_refused_naming_the_field(
    voice: Voice,
) -> None:
    voice.roster.active.add((TENANT, "ana"))
    settings = VoiceSettings(
        enabled=True, routes=(NumberRouting(BUSINESS_NUMBER, ("ana", "gone")),)
    )
    with pytest.raises(ValidationError) as raised:
        VoiceAdmin(voice.calls, voice.cipher, lambda: voice.roster).update_voice_settings(
            ADMIN, settings
        )
    assert raised.value.field == "voice.routes[0].user_ids[1]"
    assert "gone" not in str(raised.value)
    assert voice.calls.voice == {}


def test_settings_routing_to_active_staff_are_stored(voice: Voice) -> None:
    voice.roster.active |= {(TENANT, "ana"), (TENANT, "ben")}
    settings = VoiceSettings(enabled=True, routes=(NumberRouting(BUSINESS_NUMBER, ("ana", "ben")),))
    VoiceAdmin(voice.calls, voice.cipher, lambda: voice.roster).update_voice_settings(
        ADMIN, settings
    )
    assert voice.calls.get_voice_settings(TENANT) == settings


def test_a_call_to_a_voice_only_number_starts_a_thread_that_texts_from_the_texting_number() -> None:
    # Given a practice whose second number carries calls only (a Chime SDK voice number)
    voice = build(
        numbers=(BUSINESS_NUMBER, OTHER_BUSINESS_NUMBER),
        voice_only=frozenset({OTHER_BUSINESS_NUMBER}),
    )
    voice.route()

    # When a new client calls the voice number
    plan = voice.service.incoming_call(
        IncomingCall("chime", "CA-9", OTHER_BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )

    # Then the call is recorded under the number called, and the new conversation's texts
    # (the missed-call text among them) go from the number that can text
    _, conversation_id, _ = plan.call_id.split("/")
    conversation = voice.messages.conversations[(TENANT, conversation_id)]
    assert conversation.business_number == BUSINESS_NUMBER
    assert voice.call(plan.call_id).business_number == OTHER_BUSINESS_NUMBER  # type: ignore[attr-defined]

    # And a click-to-call back shows the voice number, the one the voice carrier has
    ana = Principal("ana", TENANT, Role.ADMIN, "s", 0)  # routed, with a forwarding cell
    voice.service.click_to_call(ana, conversation_id)
    (placed,) = voice.carrier.placed  # type: ignore[union-attr]
    assert placed.caller_id == OTHER_BUSINESS_NUMBER
