"""Domain records shared by logic and data access. Fields holding PHI are encrypted bytes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from functions.core.errors import ValidationError

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


class MessageKind(StrEnum):
    """How an outbound message reached the client (the inbox marks each)."""

    PLAIN = "plain"  # the body itself was texted
    SECURE_LINK = "secure_link"  # only a link was texted; the client opens the body with a code
    # A secure link's one-time code: the stored body is a marker, never the code (#15).
    VERIFICATION_CODE = "verification_code"


# A status only ever moves to a higher rank, so late or repeated events cannot regress it.
STATUS_RANK: dict[MessageStatus, int] = {
    MessageStatus.RECEIVED: 0,
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.FAILED: 2,
}


class TenantStatus(StrEnum):
    ACTIVE = "active"
    WIPED = "wiped"


@dataclass(frozen=True)
class AfterHours:
    """An automatic reply outside office hours; off unless the practice turns it on."""

    enabled: bool = False
    timezone: str = "America/New_York"
    # ISO weekday (1 = Monday) -> (open "HH:MM", close "HH:MM"); a missing day is closed.
    hours: dict[int, tuple[str, str]] = field(
        default_factory=lambda: {d: ("09:00", "17:00") for d in range(1, 6)}
    )
    text: str = ""  # "" means the built-in wording (functions/logic/after_hours.py)
    window_minutes: int = 720  # at most one auto-reply per client in this window
    holidays: tuple[str, ...] = ()  # practice-local dates "YYYY-MM-DD", closed all day


@dataclass(frozen=True)
class TenantSettings:
    """Per-practice texts; empty strings mean the built-in wording (functions.logic.keywords)."""

    help_reply: str = ""
    stop_reply: str = ""
    start_reply: str = ""
    after_hours: AfterHours = field(default_factory=AfterHours)
    max_body_chars: int = 1600

    def __post_init__(self) -> None:
        # Carriers require an answer to HELP, STOP and START: a wording of only whitespace
        # would send a blank text (or none), so it means the built-in wording, as "" does.
        for name in ("help_reply", "stop_reply", "start_reply"):
            if not getattr(self, name).strip():
                object.__setattr__(self, name, "")


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    display_name: str
    support_contact: str
    retention_days: int
    status: TenantStatus = TenantStatus.ACTIVE
    # Wrapped HMAC key for blind indexes (an EncryptedRecord under the tenant's KMS key).
    index_key_record: bytes = b""
    business_numbers: tuple[str, ...] = ()
    settings: TenantSettings = field(default_factory=TenantSettings)


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
    business_number: str | None = None  # the practice number the client texts (not PHI)
    consent: ConsentRecord | None = None
    last_auto_reply_at: str | None = None
    name_record: bytes | None = None  # EncryptedRecord of the client's name, if staff gave one
    urgent_at: str | None = None  # a crisis phrase flagged it; cleared by staff (crisis.md)


class ConsentMode(StrEnum):
    SECURE_LINK = "secure_link"  # texts carry only a link; the message stays in Quietline
    PLAIN_SMS = "plain_sms"  # the client was told the risk and chose plain texts


@dataclass(frozen=True)
class ConsentRecord:
    """Who captured the client's choice, when, and which wording they were shown."""

    mode: ConsentMode
    captured_by: str
    captured_at: str
    wording_version: str

    def to_item(self) -> dict[str, str]:
        """Strings only, so the same dict serves DynamoDB, JSON and audit events."""
        return {
            "mode": self.mode.value,
            "captured_by": self.captured_by,
            "captured_at": self.captured_at,
            "wording_version": self.wording_version,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ConsentRecord:
        """The record from its plain-dict form; ValidationError names the bad field."""
        if not isinstance(item, Mapping):
            raise ValidationError("consent", "must be an object")
        raw_mode = item.get("mode")
        if not isinstance(raw_mode, str) or raw_mode not in {m.value for m in ConsentMode}:
            raise ValidationError("consent.mode", "is not a known consent mode")
        values = []
        for name in ("captured_by", "captured_at", "wording_version"):
            value = item.get(name)
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(f"consent.{name}", "is required")
            values.append(value)
        return cls(ConsentMode(raw_mode), *values)


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
    sent_by: str | None = None  # user id or "system" for keyword and after-hours replies
    # What is actually texted when it is not the body: a secure-link notice or a one-time
    # code (encrypted too). Removed once the message leaves `queued` (sent or failed).
    sms_text_record: bytes | None = None
    kind: MessageKind = MessageKind.PLAIN
    opened_at: str | None = None  # a secure link's message, when the client first opened it


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursor: str | None = None  # opaque; None means no further page
    # Opaque mark of the newest change a listing saw: asking again with it returns only
    # what changed after (the inbox's live updates; docs/web.md). None where unsupported.
    since: str | None = None


@dataclass(frozen=True)
class MessageTemplate:
    """Practice wording staff pick from; templates hold no client details (not PHI)."""

    template_id: str
    name: str
    body: str
    updated_at: str


@dataclass(frozen=True)
class MessageRef:
    """Where a message lives; what a carrier id or a queue entry points at."""

    tenant_id: str
    conversation_id: str
    message_id: str

    def token(self) -> str:
        """A compact form for carrier context fields and queue bodies (no PHI)."""
        return f"{self.tenant_id}/{self.conversation_id}/{self.message_id}"

    @classmethod
    def from_token(cls, token: str) -> MessageRef:
        parts = token.split("/") if isinstance(token, str) else []
        if len(parts) != 3 or not all(parts) or len(token) > 200:
            raise ValidationError("message_ref", "is not a message reference")
        return cls(*parts)


@dataclass(frozen=True)
class ConversationChange:
    """State an inbound message changes on its conversation, written with it atomically."""

    business_number: str | None = None
    opted_out: bool | None = None  # True on STOP, False on START, None: unchanged
    auto_reply_at: str | None = None
    urgent_at: str | None = None  # flag the conversation urgent (functions/logic/care.py)
    page_after_hours: bool = False  # ask the care pager to page the on-call (a marker item)


@dataclass(frozen=True)
class PendingMessage:
    """An outbound message still queued: what the sweeper re-enqueues or gives up on."""

    ref: MessageRef
    created_at: str
    send_attempts: int


@dataclass(frozen=True)
class SecureLink:
    """A secure link's state; only hashes of the token, the code and the session are kept."""

    token_hash: str
    tenant_id: str
    conversation_id: str
    message_id: str
    expires_at: int
    failures: int = 0
    locked: bool = False
    code_hash: str = ""
    code_expires: int = 0
    codes_sent: int = 0
    session_hash: str = ""
    session_expires: int = 0


@dataclass(frozen=True)
class StaffUser:
    user_id: str  # the immutable `sub`
    email: str
    role: str
    enabled: bool
    status: str  # FORCE_CHANGE_PASSWORD until the invitee signs in, then CONFIRMED
