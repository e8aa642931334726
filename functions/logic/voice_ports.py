"""The ports voice depends on: the carrier (adapters in functions/carriers) and storage
(adapters in functions/dal). Split from ports.py so voice can change without touching SMS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from functions.core.models import Page
from functions.core.voice import (
    CallOutcome,
    CallRecord,
    CallStatus,
    OutboundCallRequest,
    PlacedCall,
    VoicemailRef,
    VoiceSettings,
)


class VoiceCarrier(Protocol):
    """What the service asks of a voice carrier. Failures raise PermanentCarrierError or
    TransientCarrierError (functions.core.errors), never with a number in the message."""

    name: str

    def place_call(self, request: OutboundCallRequest) -> PlacedCall:
        """Click-to-call: ring `request.clinician_number` under `request.caller_id`, play
        the screen, and on acceptance (reported through `VoiceService.screen_answer`)
        bridge to `request.client_number`. Returns once the carrier accepted the request."""
        ...

    def delete_recording(self, carrier_recording_id: str) -> None:
        """Delete the carrier's (or staging) copy of a voicemail once ours is stored.
        A carrier that keeps none makes this a no-op; an absent recording is not an error."""
        ...


class VoicemailStore(Protocol):
    """Encrypted voicemail audio by object key (S3 in AWS). Keys hold ids only; the bytes
    handed in are already sealed under the tenant's key: this port never sees audio."""

    def put(self, object_key: str, sealed: bytes, *, expires_at: int) -> None: ...

    def get(self, object_key: str) -> bytes:
        """The sealed bytes; NotFoundError if absent."""
        ...

    def delete(self, object_key: str) -> None: ...


@dataclass(frozen=True)
class PendingRecordingDelete:
    """A carrier's copy of a voicemail still to delete (ours is stored): ids only."""

    carrier: str
    carrier_recording_id: str
    call_id: str
    expires_at: int  # the voicemail's retention: past it, the marker is moot


class CallStore(Protocol):
    """Call items in the message table (sort keys beside the thread's messages)."""

    def put_call(
        self,
        call: CallRecord,
        *,
        new_phone_record: bytes | None = None,
        texting_number: str | None = None,
    ) -> None:
        """Create the call and bring its conversation to the top of the inbox (creating
        it with `new_phone_record` for a first contact, texting from `texting_number` unless
        it already has a number; None: leave it unset), in one transaction;
        DuplicateError if the carrier's call id is already recorded."""
        ...

    def get_call(self, tenant_id: str, conversation_id: str, call_ulid: str) -> CallRecord: ...

    def find_call_by_carrier_id(self, carrier: str, carrier_call_id: str) -> CallRecord: ...

    def update_call(
        self,
        call: CallRecord,
        *,
        status: CallStatus,
        expected: tuple[CallStatus, ...],
        at: str,
        outcome: CallOutcome | None = None,
        answered_by: str | None = None,
        duration_seconds: int | None = None,
        carrier_call_id: str | None = None,
        voicemail: VoicemailRef | None = None,
    ) -> bool:
        """Move the call to `status` if it is in one of `expected`; False if it was not
        (a repeated or late carrier event, or another clinician accepted first)."""
        ...

    def list_calls(
        self, tenant_id: str, conversation_id: str, *, limit: int, cursor: str | None
    ) -> Page[CallRecord]:
        """Newest first, like list_messages."""
        ...

    def mark_recording_delete_pending(self, pending: PendingRecordingDelete) -> None:
        """Remember a carrier copy whose delete failed, for the sweep (idempotent)."""
        ...

    def list_pending_recording_deletes(
        self, carrier: str, *, limit: int
    ) -> list[PendingRecordingDelete]: ...

    def clear_recording_delete_pending(self, carrier: str, carrier_recording_id: str) -> None: ...


class VoiceSettingsStore(Protocol):
    """A tenant's voice settings and each clinician's encrypted forwarding cell."""

    def get_voice_settings(self, tenant_id: str) -> VoiceSettings:
        """The stored settings, or the defaults (voice off) when none were saved."""
        ...

    def put_voice_settings(self, tenant_id: str, settings: VoiceSettings) -> None: ...

    def get_forwarding_records(self, tenant_id: str, user_ids: list[str]) -> dict[str, bytes]:
        """user id -> EncryptedRecord of the forwarding cell, for those who set one."""
        ...

    def put_forwarding_record(self, tenant_id: str, user_id: str, record: bytes) -> None: ...

    def delete_forwarding_record(self, tenant_id: str, user_id: str) -> None: ...


class VoiceNotifier(Protocol):
    """Tells staff a voicemail arrived, without PHI (the practice's name only)."""

    def new_voicemail(self, tenant_id: str, practice_name: str) -> None: ...


class StaffRoster(Protocol):
    """Who may be rung or routed: the tenant's enabled staff (Cognito in AWS)."""

    def is_active_staff(self, tenant_id: str, user_id: str) -> bool: ...


class VoicemailTranscription(Protocol):
    """Optional transcription of a voicemail just stored (functions/logic/transcription.py)."""

    def voicemail_stored(self, call: CallRecord, audio: bytes, content_type: str) -> None:
        """Start it if the practice opted in; never raises (the voicemail is safe)."""
        ...
