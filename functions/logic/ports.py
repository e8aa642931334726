"""The ports messaging logic depends on; adapters live in functions/dal and functions/carriers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from functions.core.errors import ConflictError, DecryptionError, DependencyError, ThrottledError
from functions.core.models import ConsentRecord, Conversation, Message, MessageStatus, Page
from functions.dal.message_store import ConversationChange, MessageRef, PendingMessage


class MessageRepository(Protocol):
    def get_conversation(self, tenant_id: str, conversation_id: str) -> Conversation: ...

    def create_conversation(
        self, tenant_id: str, conversation_id: str, phone_record: bytes, at: str
    ) -> None: ...

    def set_consent(self, tenant_id: str, conversation_id: str, consent: ConsentRecord) -> None: ...

    def record_message(
        self,
        message: Message,
        *,
        new_phone_record: bytes | None = None,
        change: ConversationChange | None = None,
        replies: Sequence[Message] = (),
    ) -> None: ...

    def get_message(self, ref: MessageRef) -> Message: ...

    def list_messages(
        self, tenant_id: str, conversation_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Message]: ...

    def find_by_carrier_id(self, carrier: str, carrier_message_id: str) -> MessageRef: ...

    def advance_status(
        self,
        ref: MessageRef,
        status: MessageStatus,
        *,
        at: str,
        carrier: str | None = None,
        carrier_message_id: str | None = None,
        failure_reason: str | None = None,
    ) -> bool: ...

    def claim_for_sending(
        self, ref: MessageRef, *, now: str, lease_until: str
    ) -> Message | None: ...

    def list_pending(self, *, created_before: str, limit: int = 100) -> list[PendingMessage]: ...

    def set_opted_out(
        self, tenant_id: str, conversation_id: str, opted_out: bool, at: str
    ) -> None: ...


class OutboundQueue(Protocol):
    """Hands a stored, queued message to the sender (SQS in AWS)."""

    def enqueue(self, ref: MessageRef) -> None: ...


class StaffNotifier(Protocol):
    """Tells staff something arrived, without PHI: no name, number or text."""

    def new_inbound_message(self, tenant_id: str, practice_name: str) -> None: ...


class RetryQueue(Protocol):
    """Parks work whose dependencies failed (SQS with a DLQ and an alarm in AWS)."""

    def defer(self, kind: str, payload: dict[str, Any]) -> None: ...


# Faults worth retrying later; anything else is a bug or bad input and must surface.
RETRYABLE = (DependencyError, ThrottledError, DecryptionError, ConflictError)


class MetricsSink(Protocol):
    """Counts by metric name only: a dimension must never carry PHI."""

    def count(self, name: str, value: int = 1) -> None: ...
