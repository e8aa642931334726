"""Voice: inbound calls screened to clinicians' cells, voicemail under the tenant's key,
click-to-call, missed-call text-back. Carrier-independent (docs/voice.md, "Contract").

Carrier adapters call the first group of methods (incoming_call, screen_answer,
call_finished, voicemail_recorded, call_id_for); the staff API calls the second
(click_to_call, voicemail_audio, call_log, settings, forwarding number). Every call,
voicemail store and play is audited; no number, name or audio reaches a log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from functions.core.clock import Clock, epoch_ms, expiry, iso
from functions.core.errors import (
    CarrierError,
    ConsentRequiredError,
    DuplicateError,
    NotFoundError,
    OptedOutError,
    QuietlineError,
    TenantUnavailableError,
    ValidationError,
)
from functions.core.ids import new_id
from functions.core.models import Conversation, Page, Tenant
from functions.core.observability import logger
from functions.core.voice import (
    CallDirection,
    CallOutcome,
    CallPlan,
    CallRecord,
    CallReport,
    CallStatus,
    Greeting,
    IncomingCall,
    NextAction,
    NextStep,
    NumberRouting,
    OutboundCallRequest,
    OutboundLeg,
    PlanAction,
    RingTarget,
    ScreenDecision,
    VoicemailRecording,
    VoicemailRef,
    VoiceSettings,
    split_call_id,
)
from functions.crypto.contexts import forwarding_number_location, phone_location, voicemail_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.access import Principal, can_see
from functions.logic.after_hours import is_after_hours
from functions.logic.audit import AuditEvent, AuditSink
from functions.logic.audit import Outcome as AuditOutcome
from functions.logic.outbound import OutboundService
from functions.logic.ports import MetricsSink, RecordingStore
from functions.logic.tenants import TenantDirectory
from functions.logic.voice_ports import (
    CallStore,
    PendingRecordingDelete,
    StaffRoster,
    VoiceCarrier,
    VoicemailStore,
    VoicemailTranscription,
    VoiceNotifier,
    VoiceSettingsStore,
)
from functions.logic.voice_settings import (
    calling_number,
    default_greeting,
    default_missed_call_text,
    screening_prompt,
    texting_number,
    voicemail_object_key,
)

VOICE_ACTOR = "voice"  # the audit actor (and sent_by) of carrier-driven events
_MISSED_OUTCOMES = frozenset(
    {CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.DECLINED, CallOutcome.FAILED}
)


@dataclass(frozen=True)
class VoicemailAudio:
    """A voicemail's plaintext audio, for the staff API to stream once (no-store)."""

    audio: bytes
    content_type: str


@dataclass
class VoiceService:
    directory: TenantDirectory
    store: RecordingStore  # conversations (a first call creates one, as a first text does)
    calls: CallStore
    settings: VoiceSettingsStore
    voicemails: VoicemailStore
    carrier: VoiceCarrier
    cipher: EnvelopeCipher
    outbound: OutboundService  # missed-call text-back goes the way of any plain text
    notifier: VoiceNotifier
    audit: AuditSink
    clock: Clock
    metrics: MetricsSink
    # Enabled staff (Cognito), read when needed: routed clinicians must be live staff.
    staff: Callable[[], StaffRoster] | None = None
    # Numbers that carry calls but cannot text (Chime SDK voice numbers on the AWS carrier).
    voice_only_numbers: frozenset[str] = frozenset()
    on_call: Callable[[Tenant, datetime], str | None] | None = None  # logic/care.py
    transcription: VoicemailTranscription | None = None  # the practice may opt in

    # --- carrier-facing -------------------------------------------------------------------

    def incoming_call(self, call: IncomingCall) -> CallPlan:
        """Record the call in the caller's thread (creating the conversation for an
        unknown caller, without consent) and say what to do: ring the number's clinicians
        under the business caller ID with a screen, or go straight to voicemail (after
        hours, nobody to ring), or reject (voice off, number not ours: call_id is "" and
        nothing is stored). Idempotent on (carrier, carrier_call_id): a repeated webhook
        gets a plan for the call already recorded."""
        try:
            tenant_id = self.directory.tenant_for_number(call.business_number)
            tenant = self.directory.active_tenant(tenant_id)
        except TenantUnavailableError:
            self.metrics.count("CallToUnknownNumber")
            return CallPlan("", PlanAction.REJECT)
        voice = self.settings.get_voice_settings(tenant_id)
        if not voice.enabled:
            self.metrics.count("CallRejectedVoiceOff")
            return CallPlan("", PlanAction.REJECT)
        now = self.clock.now()
        targets = self._ring_targets(tenant, voice, call.business_number, now)
        conversation_id, conversation = self._conversation_for(tenant, call.caller)
        phone_record = None
        if conversation is None:
            phone_record = self.cipher.encrypt(
                phone_location(tenant_id, conversation_id), call.caller
            ).to_bytes()
        record = CallRecord(
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            call_ulid=new_id(epoch_ms(now)),
            direction=CallDirection.INBOUND,
            status=CallStatus.RINGING if targets else CallStatus.AWAITING_VOICEMAIL,
            business_number=call.business_number,
            created_at=iso(now),
            updated_at=iso(now),
            expires_at=expiry(now, tenant.retention_days),
            carrier=call.carrier,
            carrier_call_id=call.carrier_call_id,
        )
        try:
            self.calls.put_call(
                record,
                new_phone_record=phone_record,
                texting_number=texting_number(
                    tenant.business_numbers, call.business_number, self.voice_only_numbers
                ),
            )
        except DuplicateError:
            self.metrics.count("CallDuplicate")
            record = self.calls.find_call_by_carrier_id(call.carrier, call.carrier_call_id)
        else:
            self._audit("call.received", record)
            self.metrics.count("CallReceived")
            if not targets:
                self._text_back(record, voice, tenant.display_name)
        return self._plan(record, tenant, voice, targets)

    def _plan(
        self, record: CallRecord, tenant: Tenant, voice: VoiceSettings, targets: list[RingTarget]
    ) -> CallPlan:
        greeting = self._greeting(voice, tenant.display_name)
        if record.status is not CallStatus.RINGING or not targets:
            return CallPlan(
                record.call_id,
                PlanAction.VOICEMAIL,
                caller_id=record.business_number,
                greeting=greeting,
                max_voicemail_seconds=voice.max_voicemail_seconds,
            )
        route = voice.route_for(record.business_number) or NumberRouting(record.business_number)
        return CallPlan(
            record.call_id,
            PlanAction.RING,
            caller_id=record.business_number,
            targets=tuple(targets),
            strategy=route.strategy,
            ring_seconds=route.ring_seconds,
            screening_prompt=screening_prompt(tenant.display_name),
            greeting=greeting,
            max_voicemail_seconds=voice.max_voicemail_seconds,
        )

    def _ring_targets(
        self, tenant: Tenant, voice: VoiceSettings, business_number: str, now: datetime
    ) -> list[RingTarget]:
        """The routed clinicians with a forwarding cell, in order; after hours, the on-call one."""
        after_hours = tenant.settings.after_hours
        route = voice.route_for(business_number)
        if after_hours.enabled and is_after_hours(after_hours, now):  # the rota's clinician
            on_duty = self.on_call(tenant, now) if self.on_call else None
            route = NumberRouting(business_number, (on_duty,)) if on_duty else None
        if route is None or not route.user_ids:
            return []
        records = self.settings.get_forwarding_records(tenant.tenant_id, list(route.user_ids))
        user_ids = [
            u for u in route.user_ids if u in records and self._may_ring(tenant.tenant_id, u)
        ]
        numbers = self.cipher.decrypt_many(
            [(forwarding_number_location(tenant.tenant_id, u), records[u]) for u in user_ids]
        )
        return [RingTarget(u, n) for u, n in zip(user_ids, numbers, strict=True)]

    def _may_ring(self, tenant_id: str, user_id: str) -> bool:
        """A disabled (departed, lost-device) clinician is never rung: the call skips them,
        and falls to voicemail if nobody is left. If the directory cannot answer, the
        clinician is skipped too: a caller reaching voicemail beats a client's call
        ringing someone the practice has cut off."""
        if self.staff is None:
            return True
        try:
            active = self.staff().is_active_staff(tenant_id, user_id)
        except QuietlineError as error:
            self.metrics.count("RingTargetCheckFailed")
            logger.warning("staff check failed", extra={"error": type(error).__name__})
            return False
        if not active:
            self.metrics.count("RingTargetNotActiveStaff")
        return active

    def _conversation_for(self, tenant: Tenant, number: str) -> tuple[str, Conversation | None]:
        conversation_id = self.directory.conversation_id_for(tenant, number)
        try:
            return conversation_id, self.store.get_conversation(tenant.tenant_id, conversation_id)
        except NotFoundError:
            return conversation_id, None  # a first contact: created with the call

    def screen_answer(self, call_id: str, user_id: str, accepted: bool) -> ScreenDecision:
        """A rung clinician pressed (or did not press) accept. The first acceptance wins
        the call (CONNECT); a decline or a later acceptance gets HANG_UP for that leg.
        For click-to-call, CONNECT means: now dial the client."""
        call = self._call(call_id)
        if not accepted:
            return ScreenDecision.HANG_UP
        if call.direction is CallDirection.OUTBOUND and call.placed_by != user_id:
            return ScreenDecision.HANG_UP
        won = self.calls.update_call(
            call,
            status=CallStatus.IN_PROGRESS,
            expected=(CallStatus.RINGING,),
            at=iso(self.clock.now()),
            answered_by=user_id,
        )
        if not won:
            # A repeated webhook from the winner still connects; anyone else hangs up.
            return ScreenDecision.CONNECT if call.answered_by == user_id else ScreenDecision.HANG_UP
        self._audit("call.answered", call, user_id=user_id)
        return ScreenDecision.CONNECT

    def call_finished(self, report: CallReport) -> NextStep:
        """The ringing leg is over. Answered, outbound, or the caller hung up: the call log
        is final, HANG_UP. Otherwise (no answer, busy, declined, failed): VOICEMAIL with the
        greeting. A missed inbound call gets the missed-call text if the practice turned
        it on. Idempotent: a repeat gets the same step and sends nothing again."""
        call = self._call(report.call_id)
        at = iso(self.clock.now())
        answered = report.outcome is CallOutcome.ANSWERED
        to_voicemail = (
            call.direction is CallDirection.INBOUND and report.outcome in _MISSED_OUTCOMES
        )
        status = CallStatus.AWAITING_VOICEMAIL if to_voicemail else CallStatus.ENDED
        moved = self.calls.update_call(
            call,
            status=status,
            expected=(CallStatus.RINGING, CallStatus.IN_PROGRESS),
            at=at,
            outcome=report.outcome,
            answered_by=(report.answered_by or call.answered_by) if answered else None,
            duration_seconds=report.duration_seconds if answered else 0,
            carrier_call_id=report.carrier_call_id,
        )
        if moved:
            self._audit("call.ended", call, call_outcome=report.outcome.value)
            self.metrics.count(f"Call{report.outcome.value.title().replace('_', '')}")
        else:
            call = self._call(report.call_id)  # a repeat: answer as the first time
            to_voicemail = call.status is CallStatus.AWAITING_VOICEMAIL
        if not to_voicemail:
            if moved and call.direction is CallDirection.INBOUND and not answered:
                self._text_back_for(call)
            return NextStep(NextAction.HANG_UP)
        tenant = self.directory.active_tenant(call.tenant_id)
        voice = self.settings.get_voice_settings(call.tenant_id)
        if moved:
            self._text_back(call, voice, tenant.display_name)
        return NextStep(
            NextAction.VOICEMAIL,
            self._greeting(voice, tenant.display_name),
            voice.max_voicemail_seconds,
        )

    def voicemail_recorded(self, recording: VoicemailRecording) -> None:
        """Seal the audio under the tenant's key, store it, put it in the thread, tell
        staff (no PHI), then ask the carrier to delete its copy. Raises (so the adapter
        retries) if storing fails; the carrier's copy is deleted only after ours is safe."""
        call = self._call(recording.call_id)
        if call.direction is not CallDirection.INBOUND:
            raise ValidationError("call_id", "is not an inbound call")
        if call.voicemail is None:
            tenant = self.directory.active_tenant(call.tenant_id)
            self._store_voicemail(call, recording)
            if self.transcription is not None:  # never raises: the voicemail is stored
                self.transcription.voicemail_stored(call, recording.audio, recording.content_type)
            try:
                self.notifier.new_voicemail(call.tenant_id, tenant.display_name)
            except QuietlineError as error:
                # The voicemail is safe and in the thread; a missed e-mail is not worth a
                # retry that would store it twice.
                self.metrics.count("VoicemailNotificationFailed")
                logger.warning(
                    "voicemail notification failed", extra={"error": type(error).__name__}
                )
        if recording.carrier_recording_id:
            self._delete_carrier_copy(call, recording.carrier_recording_id)

    def _delete_carrier_copy(self, call: CallRecord, carrier_recording_id: str) -> None:
        """Ours is stored, so a failed delete must not fail (or lose) the voicemail: the
        carrier's id is kept for `sweep_carrier_recordings`. Raises only if that marker
        cannot be written either; the adapter's retry then finds ours stored and only
        deletes."""
        try:
            self.carrier.delete_recording(carrier_recording_id)
        except QuietlineError as error:
            self.metrics.count("CarrierRecordingDeleteFailed")
            logger.warning("carrier recording delete failed", extra={"error": type(error).__name__})
            self.calls.mark_recording_delete_pending(
                PendingRecordingDelete(
                    self.carrier.name, carrier_recording_id, call.call_id, call.expires_at
                )
            )

    def sweep_carrier_recordings(self, *, limit: int = 100) -> int:
        """Retry the carrier-copy deletes that failed (scheduled, like the message
        sweeper); a copy that still will not go stays marked. Returns how many went."""
        deleted = 0
        for pending in self.calls.list_pending_recording_deletes(self.carrier.name, limit=limit):
            try:
                self.carrier.delete_recording(pending.carrier_recording_id)
            except QuietlineError as error:
                self.metrics.count("CarrierRecordingDeleteFailed")
                logger.warning(
                    "carrier recording delete failed", extra={"error": type(error).__name__}
                )
                continue
            self.calls.clear_recording_delete_pending(pending.carrier, pending.carrier_recording_id)
            deleted += 1
        if deleted:
            self.metrics.count("CarrierRecordingDeleteSwept", deleted)
        return deleted

    def _store_voicemail(self, call: CallRecord, recording: VoicemailRecording) -> None:
        key = voicemail_object_key(call)
        sealed = self.cipher.encrypt_bytes(
            voicemail_location(call.tenant_id, call.conversation_id, call.call_ulid),
            recording.audio,
        ).to_bytes()
        self.voicemails.put(key, sealed, expires_at=call.expires_at)
        ref = VoicemailRef(key, recording.content_type, recording.duration_seconds, len(sealed))
        self.calls.update_call(
            call,
            status=CallStatus.VOICEMAIL,
            expected=(
                CallStatus.AWAITING_VOICEMAIL,
                CallStatus.RINGING,
                CallStatus.ENDED,
                CallStatus.VOICEMAIL,
            ),
            at=iso(self.clock.now()),
            voicemail=ref,
        )
        self._audit("voicemail.stored", call)
        self.metrics.count("VoicemailStored")

    def bridge_number(self, call_id: str, user_id: str) -> str:
        """Click-to-call, once `user_id` (who placed it) accepted the screen: the client's
        number to dial. For an adapter that cannot keep it between requests (Twilio: each
        webhook is a new request and a URL must not carry it). ValidationError unless the
        call is an accepted outbound call of that user."""
        call = self._call(call_id)
        if (
            call.direction is not CallDirection.OUTBOUND
            or call.status is not CallStatus.IN_PROGRESS
            or call.placed_by != user_id
        ):
            raise ValidationError("call_id", "is not an accepted outbound call")
        conversation = self.store.get_conversation(call.tenant_id, call.conversation_id)
        return self.cipher.decrypt(
            phone_location(call.tenant_id, call.conversation_id), conversation.phone_record
        )

    def call_id_for(self, carrier: str, carrier_call_id: str) -> str:
        """Our call id for a carrier's, for an adapter that did not carry ours through;
        NotFoundError if the carrier's id was never recorded."""
        return self.calls.find_call_by_carrier_id(carrier, carrier_call_id).call_id

    def outbound_leg(self, call_id: str) -> OutboundLeg:
        """A click-to-call still under way: its clinician, their screen and the client's
        number (decrypted for the dial only). NotFoundError for an inbound or ended call,
        so a replayed carrier event cannot reach a number."""
        call = self._call(call_id)
        if call.direction is not CallDirection.OUTBOUND or call.status not in (
            CallStatus.RINGING,
            CallStatus.IN_PROGRESS,
        ):
            raise NotFoundError("no click-to-call under way")
        read = self.store.tenant_and_conversation(call.tenant_id, call.conversation_id)
        tenant = self.directory.admit(read.tenant)
        conversation = read.conversation.get()
        number = self.cipher.decrypt(
            phone_location(call.tenant_id, call.conversation_id), conversation.phone_record
        )
        prompt = f"Call to a client of {tenant.display_name}. Press 1 to connect."
        return OutboundLeg(call.placed_by or "", prompt, number)

    # --- staff-facing ---------------------------------------------------------------------

    def click_to_call(self, principal: Principal, conversation_id: str) -> CallRecord:
        """Ring the principal's forwarding cell, then bridge to the client under the
        business number. Refused (as not found) on a conversation the principal may not
        see; ValidationError if they set no forwarding cell. Audited `call.place`."""
        tenant, conversation = self._visible(principal, conversation_id)
        voice = self.settings.get_voice_settings(tenant.tenant_id)
        if not voice.enabled:
            raise ValidationError("voice", "is turned off for this practice")
        business_number = calling_number(
            tenant.business_numbers, conversation.business_number, self.voice_only_numbers
        )
        if not business_number:
            raise ValidationError("business_number", "the practice has no business number")
        records = self.settings.get_forwarding_records(tenant.tenant_id, [principal.user_id])
        if principal.user_id not in records:
            raise ValidationError("forwarding_number", "set your forwarding number first")
        clinician_number, client_number = self.cipher.decrypt_many(
            [
                (
                    forwarding_number_location(tenant.tenant_id, principal.user_id),
                    records[principal.user_id],
                ),
                (phone_location(tenant.tenant_id, conversation_id), conversation.phone_record),
            ]
        )
        now = self.clock.now()
        call = CallRecord(
            tenant_id=tenant.tenant_id,
            conversation_id=conversation_id,
            call_ulid=new_id(epoch_ms(now)),
            direction=CallDirection.OUTBOUND,
            status=CallStatus.RINGING,
            business_number=business_number,
            created_at=iso(now),
            updated_at=iso(now),
            expires_at=expiry(now, tenant.retention_days),
            carrier=self.carrier.name,
            placed_by=principal.user_id,
        )
        self.calls.put_call(call)
        request = OutboundCallRequest(
            call.call_id,
            business_number,
            principal.user_id,
            clinician_number,
            client_number,
            screening_prompt=f"Call to a client of {tenant.display_name}. Press 1 to connect.",
        )
        try:
            placed = self.carrier.place_call(request)
        except CarrierError:
            self.calls.update_call(
                call,
                status=CallStatus.ENDED,
                expected=(CallStatus.RINGING,),
                at=iso(self.clock.now()),
                outcome=CallOutcome.FAILED,
            )
            raise
        self.calls.update_call(
            call,
            status=CallStatus.RINGING,
            expected=(CallStatus.RINGING,),
            at=iso(self.clock.now()),
            carrier_call_id=placed.carrier_call_id,
        )
        self.metrics.count("CallPlaced")
        return replace(call, carrier_call_id=placed.carrier_call_id)

    def voicemail_audio(
        self, principal: Principal, conversation_id: str, call_ulid: str
    ) -> VoicemailAudio:
        """The voicemail's audio, decrypted for one play. Audited `voicemail.played`."""
        tenant, _ = self._visible(principal, conversation_id)
        call = self.calls.get_call(tenant.tenant_id, conversation_id, call_ulid)
        if call.voicemail is None:
            raise NotFoundError("no voicemail on that call")
        sealed = self.voicemails.get(call.voicemail.object_key)
        audio = self.cipher.decrypt_bytes(
            voicemail_location(call.tenant_id, call.conversation_id, call.call_ulid), sealed
        )
        return VoicemailAudio(audio, call.voicemail.content_type)

    def call_log(
        self,
        principal: Principal,
        conversation_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[CallRecord]:
        """The thread's calls, newest first (the thread view merges them with messages)."""
        tenant, _ = self._visible(principal, conversation_id)
        return self.calls.list_calls(tenant.tenant_id, conversation_id, limit=limit, cursor=cursor)

    # --- helpers --------------------------------------------------------------------------

    def _call(self, call_id: str) -> CallRecord:
        tenant_id, conversation_id, call_ulid = split_call_id(call_id)
        return self.calls.get_call(tenant_id, conversation_id, call_ulid)

    def _visible(self, principal: Principal, conversation_id: str) -> tuple[Tenant, Conversation]:
        read = self.store.tenant_and_conversation(principal.tenant_id, conversation_id)
        conversation = read.conversation.get()
        if not can_see(principal, conversation):
            raise NotFoundError("conversation not found")  # as if it did not exist
        return self.directory.admit(read.tenant), conversation

    def _greeting(self, voice: VoiceSettings, practice_name: str) -> Greeting:
        return Greeting(
            voice.greeting_text.strip() or default_greeting(practice_name),
            voice.greeting_recording_key,
        )

    def _text_back_for(self, call: CallRecord) -> None:
        tenant = self.directory.active_tenant(call.tenant_id)
        self._text_back(call, self.settings.get_voice_settings(call.tenant_id), tenant.display_name)

    def _text_back(self, call: CallRecord, voice: VoiceSettings, practice_name: str) -> None:
        """The missed-call text, through the outbound path: plain-text consent and opt-out
        apply as to any text (a call gives no consent). Never fails the call."""
        if not voice.missed_call_text_enabled:
            return
        body = voice.missed_call_text.strip() or default_missed_call_text(practice_name)
        try:
            # sent_by is not SYSTEM_SENDER: an opt-out before the send still stops it.
            self.outbound.accept(
                tenant_id=call.tenant_id,
                conversation_id=call.conversation_id,
                body=body,
                sent_by=VOICE_ACTOR,
            )
        except (OptedOutError, ConsentRequiredError):
            self.metrics.count("MissedCallTextNotAllowed")
        except QuietlineError as error:
            self.metrics.count("MissedCallTextFailed")
            logger.warning("missed-call text failed", extra={"error": type(error).__name__})
        else:
            self.metrics.count("MissedCallTextSent")

    def _audit(
        self,
        action: str,
        call: CallRecord,
        *,
        user_id: str | None = None,
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
        **extra: str,
    ) -> None:
        target = {
            "conversation_id": call.conversation_id,
            "call_id": call.call_ulid,
            "direction": call.direction.value,
            **extra,
        }
        self._audit_tenant(action, call.tenant_id, user_id or VOICE_ACTOR, target, outcome)

    def _audit_tenant(
        self,
        action: str,
        tenant_id: str,
        actor: str,
        target: dict[str, str],
        outcome: AuditOutcome = AuditOutcome.SUCCESS,
    ) -> None:
        self.audit.record(
            AuditEvent(action, outcome, actor, tenant_id, iso(self.clock.now()), target=target)
        )
