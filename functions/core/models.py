"""Domain records shared by logic and data access. Fields holding PHI are encrypted bytes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(StrEnum):
    RECEIVED = "received"  # inbound, stored
    QUEUED = "queued"  # outbound, accepted and waiting for the sender
    SENT = "sent"  # handed to the carrier
    DELIVERED = "delivered"  # the carrier confirmed delivery (final)
    FAILED = "failed"  # the carrier or we gave up (final)


# A status only ever moves to a higher rank, so late or repeated events cannot regress it.
STATUS_RANK: dict[MessageStatus, int] = {
    MessageStatus.RECEIVED: 0,
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.FAILED: 2,
}


def is_advance(current: MessageStatus, new: MessageStatus) -> bool:
    return STATUS_RANK[new] > STATUS_RANK[current]


class TenantStatus(StrEnum):
    ACTIVE = "active"
    WIPED = "wiped"


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    display_name: str
    support_contact: str
    retention_days: int
    status: TenantStatus = TenantStatus.ACTIVE
    # Wrapped HMAC key for blind indexes (an EncryptedRecord under the tenant's KMS key).
    index_key_record: bytes = b""


@dataclass(frozen=True)
class Conversation:
    """One conversation per tenant and client number; its id is the number's blind index."""

    tenant_id: str
    conversation_id: str
    phone_record: bytes  # EncryptedRecord of the client's E.164 number
    last_activity_at: str
    unread_count: int = 0
    opted_out: bool = False
    assigned_to: str | None = None
    created_at: str = ""


@dataclass(frozen=True)
class Message:
    tenant_id: str
    conversation_id: str
    message_id: str
    direction: Direction
    status: MessageStatus
    body_record: bytes  # EncryptedRecord of the body
    created_at: str
    updated_at: str
    expires_at: int  # epoch seconds; DynamoDB TTL enforces retention
    carrier: str | None = None
    carrier_message_id: str | None = None
    segments: int | None = None
    encoding: str | None = None
    failure_reason: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursor: str | None = None  # opaque; None means no further page
