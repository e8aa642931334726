"""The ports messaging logic depends on; adapters live in functions/dal and functions/carriers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from functions.core.errors import ConflictError, DecryptionError, DependencyError, ThrottledError
from functions.core.models import (
    Conversation,
    ConversationChange,
    Message,
    MessageRef,
    MessageStatus,
    PendingMessage,
)

# --- the message store, one capability at a time -----------------------------------------
# Each service names exactly what it calls (its *Store protocol below); the DAL's
# MessageStore implements all of them structurally.


class ConversationReader(Protocol):
    def get_conversation(self, tenant_id: str, conversation_id: str) -> Conversation: ...


class MessageRecorder(Protocol):
    def record_message(
        self,
        message: Message,
        *,
        new_phone_record: bytes | None = None,
        change: ConversationChange | None = None,
        replies: Sequence[Message] = (),
    ) -> None: ...


class MessageReader(Protocol):
    def get_message(self, ref: MessageRef) -> Message: ...


class StatusAdvancer(Protocol):
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


class RecordingStore(ConversationReader, MessageRecorder, Protocol):
    """What taking in a message needs (InboundService, OutboundService)."""


class SendingStore(ConversationReader, MessageReader, StatusAdvancer, Protocol):
    """What the sender needs: claim a queued message, send it, record the outcome."""

    def claim_for_sending(
        self, ref: MessageRef, *, now: str, lease_until: str
    ) -> Message | None: ...

    def set_opted_out(
        self, tenant_id: str, conversation_id: str, opted_out: bool, at: str
    ) -> None: ...


class DeliveryStore(StatusAdvancer, Protocol):
    """What a carrier's delivery event needs: find its message, move it forward."""

    def find_by_carrier_id(self, carrier: str, carrier_message_id: str) -> MessageRef: ...


class SweepStore(StatusAdvancer, Protocol):
    """What the sweeper needs: the messages left queued, and a way to expire them."""

    def list_pending(self, *, created_before: str, limit: int = 100) -> list[PendingMessage]: ...


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
