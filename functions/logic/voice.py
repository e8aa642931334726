"""Voice: inbound calls screened to clinicians' cells, voicemail under the tenant's key,
click-to-call, missed-call text-back. Carrier-independent (docs/voice.md, "Contract").

Carrier adapters call the first group of methods (incoming_call, screen_answer,
call_finished, voicemail_recorded, call_id_for); the staff API calls the second
(click_to_call, voicemail_audio, call_log, settings, forwarding number). Every call,
voicemail store and play is audited; no number, name or audio reaches a log.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.core.clock import Clock
from functions.core.voice import (
    CallPlan,
    CallRecord,
    CallReport,
    IncomingCall,
    NextStep,
    ScreenDecision,
    VoicemailRecording,
    VoiceSettings,
)
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.access import Principal
from functions.logic.audit import AuditSink
from functions.logic.outbound import OutboundService
from functions.logic.ports import MetricsSink, RecordingStore
from functions.logic.tenants import TenantDirectory
from functions.logic.voice_ports import (
    CallStore,
    VoiceCarrier,
    VoicemailStore,
    VoiceNotifier,
    VoiceSettingsStore,
)

VOICE_ACTOR = "voice"  # the audit actor of carrier-driven events


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

    # --- carrier-facing -------------------------------------------------------------------

    def incoming_call(self, call: IncomingCall) -> CallPlan:
        """Record the call in the caller's thread (creating the conversation for an
        unknown caller, without consent) and say what to do: ring the number's clinicians
        under the business caller ID with a screen, or go straight to voicemail (after
        hours, nobody to ring), or reject (voice off, number not ours). Idempotent on
        (carrier, carrier_call_id): a repeated webhook gets the same plan's call id."""
        raise NotImplementedError

    def screen_answer(self, call_id: str, user_id: str, accepted: bool) -> ScreenDecision:
        """A rung clinician pressed (or did not press) accept. The first acceptance wins
        the call (CONNECT); a decline or a later acceptance gets HANG_UP for that leg.
        For click-to-call, CONNECT means: now dial the client."""
        raise NotImplementedError

    def call_finished(self, report: CallReport) -> NextStep:
        """The ringing leg is over. Answered: the call log is final, HANG_UP. Otherwise
        (no answer, busy, declined, failed): VOICEMAIL with the greeting, and the
        missed-call text is sent if the practice turned it on. Caller hung up: HANG_UP
        (and the text-back, as for a missed call). Idempotent: a repeat gets the same step."""
        raise NotImplementedError

    def voicemail_recorded(self, recording: VoicemailRecording) -> None:
        """Seal the audio under the tenant's key, store it, put it in the thread, tell
        staff (no PHI), then ask the carrier to delete its copy. Raises (so the adapter
        retries) if storing fails; the carrier's copy is deleted only after ours is safe."""
        raise NotImplementedError

    def call_id_for(self, carrier: str, carrier_call_id: str) -> str:
        """Our call id for a carrier's, for an adapter that did not carry ours through;
        NotFoundError if the carrier's id was never recorded."""
        raise NotImplementedError

    # --- staff-facing ---------------------------------------------------------------------

    def click_to_call(self, principal: Principal, conversation_id: str) -> CallRecord:
        """Ring the principal's forwarding cell, then bridge to the client under the
        business number. Refused (as not found) on a conversation the principal may not
        see; ValidationError if they set no forwarding cell. Audited `call.place`."""
        raise NotImplementedError

    def voicemail_audio(
        self, principal: Principal, conversation_id: str, call_ulid: str
    ) -> VoicemailAudio:
        """The voicemail's audio, decrypted for one play. Audited `voicemail.played`."""
        raise NotImplementedError

    def call_log(
        self,
        principal: Principal,
        conversation_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> list[CallRecord]:
        """The thread's calls, newest first (merged into the thread by the API)."""
        raise NotImplementedError

    def get_voice_settings(self, principal: Principal) -> VoiceSettings:
        raise NotImplementedError

    def update_voice_settings(self, principal: Principal, settings: VoiceSettings) -> VoiceSettings:
        """Admins only; every routed user must be the tenant's active staff."""
        raise NotImplementedError

    def set_forwarding_number(self, principal: Principal, raw: str, *, region: str | None) -> None:
        """The principal's own cell, national format accepted in `region`; sealed under the
        tenant's key like a client's number, never returned in full nor sent to a client."""
        raise NotImplementedError

    def clear_forwarding_number(self, principal: Principal) -> None:
        raise NotImplementedError
