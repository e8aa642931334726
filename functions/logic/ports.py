"""The ports messaging logic depends on; adapters live in functions/dal and functions/carriers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from functions.core.errors import ConflictError, DecryptionError, DependencyError, ThrottledError
from functions.core.models import (
    Conversation,
    ConversationChange,
    Message,
    MessageRef,
    MessageStatus,
    Page,
    PendingMessage,
    Tenant,
)

T_co = TypeVar("T_co", covariant=True)


# --- reads made together --------------------------------------------------------------------
# The data layer answers several reads in one round trip (a BatchGetItem, or calls it runs
# at once: functions/dal/store/waves.py). Each part holds its value or the error it met,
# raised only by `get()`: logic asks for them in the order its checks must fail in, so a
# read made early never answers before the check that should have refused the request.


class Outcome(Protocol[T_co]):
    def get(self) -> T_co:
        """The value; or the read's error (NotFoundError for an absent item), raised now."""
        ...


@dataclass(frozen=True)
class SessionTouch:
    """One request's idle-logoff touch, ready to send (the DAL sends it with the first reads)."""

    tenant_id: str
    user_id: str
    session_id: str
    auth_time: int
    now: str
    idle_cutoff: str
    expires_at: int
    while_locked: bool = False  # the route passes the app lock (unlock, sign-out, refresh)


@dataclass(frozen=True)
class ConversationRead:
    """A tenant profile and one of its conversations (one BatchGetItem), and the session
    touch sent alongside (None when none was asked for; else False: the session is dead)."""

    tenant: Outcome[Tenant]
    conversation: Outcome[Conversation]
    session: Outcome[bool] | None = None


@dataclass(frozen=True)
class ThreadRead:
    """A conversation read with a page of its messages, newest first (the Query's errors,
    an invalid cursor among them, wait for `get()`)."""

    conversation: ConversationRead
    messages: Outcome[Page[Message]]


@dataclass(frozen=True)
class ListingRead:
    """A tenant profile with a page of its conversations, and the session touch."""

    tenant: Outcome[Tenant]
    conversations: Outcome[Page[Conversation]]
    session: Outcome[bool] | None = None


@dataclass(frozen=True)
class ClaimRead:
    """A send's claim on its message (None: not claimable now) with its tenant and
    conversation, read while the claim is made."""

    claimed: Outcome[Message | None]
    context: ConversationRead


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


class TenantConversationReader(Protocol):
    def tenant_and_conversation(self, tenant_id: str, conversation_id: str) -> ConversationRead:
        """Both items in one round trip; raises only if the call itself failed."""
        ...


class RecordingStore(ConversationReader, TenantConversationReader, MessageRecorder, Protocol):
    """What taking in a message needs (InboundService, OutboundService)."""


class SendingStore(MessageReader, StatusAdvancer, Protocol):
    """What the sender needs: claim a queued message, send it, record the outcome."""

    def claim_with_context(self, ref: MessageRef, *, now: str, lease_until: str) -> ClaimRead:
        """The claim, the tenant and the conversation in one round trip; never raises."""
        ...

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
