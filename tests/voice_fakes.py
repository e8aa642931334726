"""In-memory fakes of the ports VoiceService runs on (no network): they keep state and
enforce the same conditions as the DynamoDB/S3 adapters (duplicate carrier ids, status
transitions), so unit tests exercise the service's decisions, not mocks' scripts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from functions.core.errors import CarrierError, DuplicateError, NotFoundError
from functions.core.models import Conversation, Message, MessageRef, Page, Tenant
from functions.core.voice import (
    CallOutcome,
    CallRecord,
    CallStatus,
    OutboundCallRequest,
    PlacedCall,
    VoicemailRef,
    VoiceSettings,
)
from functions.logic.audit import AuditEvent
from functions.logic.ports import ConversationRead
from functions.logic.voice_ports import PendingRecordingDelete


class _Value:
    """An Outcome that was read already: the value, or the error it raises on get()."""

    def __init__(self, value: Any = None, error: Exception | None = None) -> None:
        self._value = value
        self._error = error

    def get(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._value


class InMemoryMessages:
    """Tenants (TenantRepository) and conversations/messages (the RecordingStore subset
    voice and outbound use)."""

    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.numbers: dict[str, str] = {}
        self.conversations: dict[tuple[str, str], Conversation] = {}
        self.messages: list[Message] = []

    # TenantRepository
    def get_tenant(self, tenant_id: str) -> Tenant:
        if tenant_id not in self.tenants:
            raise NotFoundError("tenant not found")
        return self.tenants[tenant_id]

    def put_tenant(self, tenant: Tenant) -> None:
        self.tenants[tenant.tenant_id] = tenant

    def update_tenant_profile(self, tenant: Tenant) -> None:
        self.tenants[tenant.tenant_id] = tenant

    def assign_business_number(self, number: str, tenant_id: str) -> None:
        self.numbers[number] = tenant_id

    def tenant_id_for_number(self, number: str) -> str:
        if number not in self.numbers:
            raise NotFoundError("number not assigned")
        return self.numbers[number]

    # conversations and messages
    def get_conversation(self, tenant_id: str, conversation_id: str) -> Conversation:
        if (tenant_id, conversation_id) not in self.conversations:
            raise NotFoundError("conversation not found")
        return self.conversations[(tenant_id, conversation_id)]

    def tenant_and_conversation(self, tenant_id: str, conversation_id: str) -> ConversationRead:
        def read(get: Any) -> _Value:
            try:
                return _Value(get())
            except NotFoundError as error:
                return _Value(error=error)

        return ConversationRead(
            read(lambda: self.get_tenant(tenant_id)),
            read(lambda: self.get_conversation(tenant_id, conversation_id)),
        )

    def record_message(
        self,
        message: Message,
        *,
        new_phone_record: bytes | None = None,
        change: Any = None,
        replies: Sequence[Message] = (),
    ) -> None:
        self.messages.append(message)


class InMemoryOutboundQueue:
    def __init__(self) -> None:
        self.enqueued: list[MessageRef] = []

    def enqueue(self, ref: MessageRef) -> None:
        self.enqueued.append(ref)


class InMemoryCalls:
    """CallStore + VoiceSettingsStore, with the adapters' conditions."""

    def __init__(self, messages: InMemoryMessages) -> None:
        self._messages = messages
        self.calls: dict[tuple[str, str, str], CallRecord] = {}
        self.by_carrier: dict[tuple[str, str], tuple[str, str, str]] = {}
        self.voice: dict[str, VoiceSettings] = {}
        self.forwarding: dict[tuple[str, str], bytes] = {}
        self.pending_deletes: dict[tuple[str, str], PendingRecordingDelete] = {}
        self.fail_marking_pending = False

    def put_call(
        self,
        call: CallRecord,
        *,
        new_phone_record: bytes | None = None,
        texting_number: str | None = None,
    ) -> None:
        key = (call.tenant_id, call.conversation_id, call.call_ulid)
        if call.carrier and call.carrier_call_id:
            pointer = (call.carrier, call.carrier_call_id)
            if pointer in self.by_carrier:
                raise DuplicateError("call already recorded")
            self.by_carrier[pointer] = key
        self.calls[key] = call
        conversation_key = (call.tenant_id, call.conversation_id)
        if conversation_key not in self._messages.conversations:
            assert new_phone_record is not None, "a first contact needs its sealed number"
            self._messages.conversations[conversation_key] = Conversation(
                call.tenant_id,
                call.conversation_id,
                new_phone_record,
                call.created_at,
                business_number=texting_number,
            )

    def get_call(self, tenant_id: str, conversation_id: str, call_ulid: str) -> CallRecord:
        try:
            return self.calls[(tenant_id, conversation_id, call_ulid)]
        except KeyError:
            raise NotFoundError("call not found") from None

    def find_call_by_carrier_id(self, carrier: str, carrier_call_id: str) -> CallRecord:
        try:
            return self.calls[self.by_carrier[(carrier, carrier_call_id)]]
        except KeyError:
            raise NotFoundError("call not found") from None

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
        key = (call.tenant_id, call.conversation_id, call.call_ulid)
        current = self.calls[key]
        if current.status not in expected:
            return False
        changes: dict[str, Any] = {"status": status, "updated_at": at}
        for name, value in (
            ("outcome", outcome),
            ("answered_by", answered_by),
            ("duration_seconds", duration_seconds),
            ("carrier_call_id", carrier_call_id),
            ("voicemail", voicemail),
        ):
            if value is not None:
                changes[name] = value
        self.calls[key] = replace(current, **changes)
        return True

    def list_calls(
        self, tenant_id: str, conversation_id: str, *, limit: int, cursor: str | None
    ) -> Page[CallRecord]:
        found = [c for k, c in self.calls.items() if k[:2] == (tenant_id, conversation_id)]
        return Page(sorted(found, key=lambda c: c.call_ulid, reverse=True)[:limit])

    def mark_recording_delete_pending(self, pending: PendingRecordingDelete) -> None:
        if self.fail_marking_pending:
            from functions.core.errors import DependencyError

            raise DependencyError("table unavailable")
        self.pending_deletes[(pending.carrier, pending.carrier_recording_id)] = pending

    def list_pending_recording_deletes(
        self, carrier: str, *, limit: int
    ) -> list[PendingRecordingDelete]:
        return [p for p in self.pending_deletes.values() if p.carrier == carrier][:limit]

    def clear_recording_delete_pending(self, carrier: str, carrier_recording_id: str) -> None:
        self.pending_deletes.pop((carrier, carrier_recording_id), None)

    # VoiceSettingsStore
    def get_voice_settings(self, tenant_id: str) -> VoiceSettings:
        return self.voice.get(tenant_id, VoiceSettings())

    def put_voice_settings(self, tenant_id: str, settings: VoiceSettings) -> None:
        self.voice[tenant_id] = settings

    def get_forwarding_records(self, tenant_id: str, user_ids: list[str]) -> dict[str, bytes]:
        return {
            u: self.forwarding[(tenant_id, u)]
            for u in user_ids
            if (tenant_id, u) in self.forwarding
        }

    def put_forwarding_record(self, tenant_id: str, user_id: str, record: bytes) -> None:
        self.forwarding[(tenant_id, user_id)] = record

    def delete_forwarding_record(self, tenant_id: str, user_id: str) -> None:
        self.forwarding.pop((tenant_id, user_id), None)


class InMemoryVoicemails:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts = 0

    def put(self, object_key: str, sealed: bytes, *, expires_at: int) -> None:
        self.puts += 1
        self.objects[object_key] = sealed

    def get(self, object_key: str) -> bytes:
        if object_key not in self.objects:
            raise NotFoundError("voicemail audio not found")
        return self.objects[object_key]

    def delete(self, object_key: str) -> None:
        self.objects.pop(object_key, None)


@dataclass
class StubbornVoiceCarrier:
    """A carrier whose recording deletes fail until `failing` is turned off."""

    name: str = "simulated"
    failing: bool = True
    deleted: list[str] = field(default_factory=list)
    attempts: int = 0

    def place_call(self, request: OutboundCallRequest) -> PlacedCall:
        return PlacedCall("SIM-CALL-1")

    def delete_recording(self, carrier_recording_id: str) -> None:
        self.attempts += 1
        if self.failing:
            raise CarrierError("carrier unavailable")
        self.deleted.append(carrier_recording_id)


class RecordingNotifier:
    def __init__(self) -> None:
        self.notified: list[tuple[str, str]] = []

    def new_voicemail(self, tenant_id: str, practice_name: str) -> None:
        self.notified.append((tenant_id, practice_name))


class RecordingAudit:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, event: AuditEvent) -> None:
        self.events.append(event)

    @property
    def actions(self) -> list[str]:
        return [e.action for e in self.events]


class CountingMetrics:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def count(self, name: str, value: int = 1) -> None:
        self.counts[name] += value


@dataclass
class Roster:
    """StaffRoster: who is enabled staff of which tenant."""

    active: set[tuple[str, str]] = field(default_factory=set)
    checks: int = 0

    def is_active_staff(self, tenant_id: str, user_id: str) -> bool:
        self.checks += 1
        return (tenant_id, user_id) in self.active


@dataclass
class FixedClock:
    current: datetime

    def now(self) -> datetime:
        return self.current
