"""Voice domain records: what a carrier reports about a call and what it must do next.

This is the contract a voice carrier adapter (Twilio Programmable Voice, Amazon Chime SDK
PSTN audio, the local simulator) codes against, together with `VoiceCarrier` in
functions/logic/voice_ports.py and `VoiceService` in functions/logic/voice.py. Adapters
translate their own events into these records and these records into their own verbs;
they never see the data layer or the staff API. docs/voice.md ("Contract") gives the
call sequences.

Ids: `call_id` is ours, an opaque string (at most 200 characters of [A-Za-z0-9/_-], ids
only, never a number) that the service hands out in a CallPlan or an OutboundCallRequest.
Adapters carry it through their carrier (a callback URL's query, Chime's
TransactionAttributes) and give it back on every later call. `carrier_call_id` is the
carrier's (Twilio CallSid, Chime TransactionId); `VoiceService.call_id_for` maps it back
when the adapter lost ours.

Phone numbers in these records are PHI-grade: they are excluded from repr, and nothing
here puts one in an exception message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from functions.core.errors import ValidationError
from functions.core.phone import require_e164

# Ours: a token of ids (tenant/conversation/call), safe in a URL query or a carrier attribute.
_CALL_ID = re.compile(r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+){2}")
MAX_CALL_ID_LENGTH = 200

# Voicemail bounds a carrier must enforce while recording (and we enforce on receipt).
MAX_VOICEMAIL_SECONDS = 300
MAX_VOICEMAIL_BYTES = 10 * 1024 * 1024
VOICEMAIL_CONTENT_TYPES = frozenset({"audio/wav", "audio/x-wav", "audio/mpeg", "audio/ogg"})


def _require_text(value: object, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field_name, "is required")
    return value


def _require_carrier_id(value: object, field_name: str) -> str:
    text = _require_text(value, field_name)
    if len(text) > 128 or not text.isprintable():
        raise ValidationError(field_name, "is not a carrier id")
    return text


def require_call_id(value: object, field_name: str = "call_id") -> str:
    """`value` if it is one of our call ids; else ValidationError naming the field only."""
    if (
        not isinstance(value, str)
        or len(value) > MAX_CALL_ID_LENGTH
        or not _CALL_ID.fullmatch(value)
    ):
        raise ValidationError(field_name, "is not a call id")
    return value


class CallOutcome(StrEnum):
    """How the ringing leg of a call ended (the carrier reports one of these)."""

    ANSWERED = "answered"  # a clinician accepted the screen and talked to the caller
    NO_ANSWER = "no_answer"  # nobody accepted within the ring time
    BUSY = "busy"
    DECLINED = "declined"  # every rung clinician declined (or rejected) the screen
    FAILED = "failed"  # the carrier could not place the leg
    CALLER_HUNG_UP = "caller_hung_up"  # the caller left before anyone answered


class CallDirection(StrEnum):
    INBOUND = "inbound"  # a client called the business number
    OUTBOUND = "outbound"  # click-to-call: a clinician called a client through us


class PlanAction(StrEnum):
    RING = "ring"  # screen-and-ring the targets, then call_finished decides
    VOICEMAIL = "voicemail"  # straight to greeting + voicemail (after hours, nobody to ring)
    REJECT = "reject"  # refuse the call (voice off, unknown number): play nothing, hang up


class RingStrategy(StrEnum):
    SEQUENTIAL = "sequential"  # one target after another, ring_seconds each
    SIMULTANEOUS = "simultaneous"  # all at once for ring_seconds; the first to accept wins


class NextAction(StrEnum):
    VOICEMAIL = "voicemail"  # play the greeting, then record up to max_voicemail_seconds
    HANG_UP = "hang_up"


class ScreenDecision(StrEnum):
    CONNECT = "connect"  # bridge this clinician to the caller
    HANG_UP = "hang_up"  # declined, or another clinician accepted first: end this leg


@dataclass(frozen=True)
class Greeting:
    """What the caller hears before the beep: text to speak, or a stored recording.

    `recording_key` is an object key in the voicemail bucket (ids only); an adapter that
    cannot play it speaks `text` instead, so `text` is always set.
    """

    text: str
    recording_key: str | None = None


@dataclass(frozen=True)
class RingTarget:
    """A clinician's forwarding cell to ring. `number` is PHI-grade: never log it."""

    user_id: str
    number: str = field(repr=False)


@dataclass(frozen=True)
class IncomingCall:
    """A client calling a business number; both numbers exactly E.164 (as carriers send)."""

    carrier: str
    carrier_call_id: str
    business_number: str
    caller: str = field(repr=False)
    received_at: str = ""

    def __post_init__(self) -> None:
        # Parsers pass raw payload values straight in, so malformed input stops here.
        _require_text(self.carrier, "carrier")
        _require_carrier_id(self.carrier_call_id, "carrier_call_id")
        require_e164(self.business_number, field="to")
        require_e164(self.caller, field="from")
        _require_text(self.received_at, "received_at")


@dataclass(frozen=True)
class CallPlan:
    """What the carrier must do with an incoming call.

    RING: ring `targets` (in `strategy`) for `ring_seconds` each (sequential) or in all
    (simultaneous), showing `caller_id` (the business number, never the caller's), and
    play `screening_prompt` to whoever answers ("Call for <practice>. Press 1 to accept"):
    their key press goes to `VoiceService.screen_answer`. When the ringing leg ends, call
    `VoiceService.call_finished`. VOICEMAIL: play `greeting`, record up to
    `max_voicemail_seconds`, then `voicemail_recorded`. REJECT: hang up.
    """

    call_id: str
    action: PlanAction
    caller_id: str = ""
    targets: tuple[RingTarget, ...] = ()
    strategy: RingStrategy = RingStrategy.SEQUENTIAL
    ring_seconds: int = 20
    screening_prompt: str = ""
    greeting: Greeting = field(default_factory=lambda: Greeting(""))
    max_voicemail_seconds: int = 120


@dataclass(frozen=True)
class CallReport:
    """How a call's ringing leg ended (inbound) or how a click-to-call ended (outbound)."""

    call_id: str
    outcome: CallOutcome
    answered_by: str | None = None  # our user id, as screen_answer was told
    duration_seconds: int = 0  # talk time of the answered leg; 0 otherwise
    carrier_call_id: str | None = None

    def __post_init__(self) -> None:
        require_call_id(self.call_id)
        if not isinstance(self.duration_seconds, int) or not 0 <= self.duration_seconds <= 86_400:
            raise ValidationError("duration_seconds", "must be 0 to 86400")


@dataclass(frozen=True)
class NextStep:
    """What the carrier does once the ringing leg is over."""

    action: NextAction
    greeting: Greeting = field(default_factory=lambda: Greeting(""))
    max_voicemail_seconds: int = 120


@dataclass(frozen=True)
class VoicemailRecording:
    """The caller's message, fetched by the adapter from its carrier.

    `carrier_recording_id` is the carrier's copy (Twilio RecordingSid, a Chime staging
    object key); once ours is stored the service asks the carrier to delete it.
    """

    call_id: str
    audio: bytes = field(repr=False)
    content_type: str
    duration_seconds: int
    carrier_recording_id: str | None = None

    def __post_init__(self) -> None:
        require_call_id(self.call_id)
        if not self.audio or len(self.audio) > MAX_VOICEMAIL_BYTES:
            raise ValidationError("audio", f"must be 1 to {MAX_VOICEMAIL_BYTES} bytes")
        if self.content_type not in VOICEMAIL_CONTENT_TYPES:
            raise ValidationError("content_type", "is not a supported audio type")
        if not 0 <= self.duration_seconds <= MAX_VOICEMAIL_SECONDS * 2:
            raise ValidationError("duration_seconds", "is out of range")


@dataclass(frozen=True)
class OutboundCallRequest:
    """Click-to-call: ring the clinician's cell first, then bridge to the client.

    Both legs show `caller_id` (the business number). The clinician hears
    `screening_prompt` and accepts with a key press (`VoiceService.screen_answer`);
    only then is the client dialled. The client never sees the clinician's number.
    """

    call_id: str
    caller_id: str
    clinician_user_id: str
    clinician_number: str = field(repr=False)
    client_number: str = field(repr=False)
    ring_seconds: int = 30
    screening_prompt: str = ""


@dataclass(frozen=True)
class OutboundLeg:
    """Click-to-call, for an adapter that cannot carry the numbers through its carrier
    (Chime: ArgumentsMap and TransactionAttributes show up in every Lambda event): who
    placed the call, what they hear first, and the client's number to bridge to."""

    clinician_user_id: str
    screening_prompt: str
    client_number: str = field(repr=False)


@dataclass(frozen=True)
class PlacedCall:
    """The carrier's answer to place_call: its own id for the call."""

    carrier_call_id: str


# --- what we keep (the DAL stores these; adapters never see them) ---------------------------


class CallStatus(StrEnum):
    """Where a call is; ringing/voicemail move to a final outcome (CallOutcome) or
    `voicemail` once a recording is stored."""

    RINGING = "ringing"
    IN_PROGRESS = "in_progress"  # a clinician accepted the screen
    AWAITING_VOICEMAIL = "awaiting_voicemail"
    VOICEMAIL = "voicemail"  # final: a voicemail is stored
    ENDED = "ended"  # final: see `outcome`
    REJECTED = "rejected"  # final: voice off or the tenant unavailable


@dataclass(frozen=True)
class VoicemailRef:
    """Where a voicemail's encrypted audio lives: an object key of ids only."""

    object_key: str
    content_type: str
    duration_seconds: int
    size_bytes: int


@dataclass(frozen=True)
class CallRecord:
    """A call in a client's thread (ids and outcomes only: no number, no audio)."""

    tenant_id: str
    conversation_id: str
    call_ulid: str  # sorts with message ids: the thread merges calls and messages by it
    direction: CallDirection
    status: CallStatus
    business_number: str
    created_at: str
    updated_at: str
    expires_at: int  # the messages' retention: DynamoDB TTL, and the bucket's lifecycle
    carrier: str | None = None
    carrier_call_id: str | None = None
    outcome: CallOutcome | None = None
    answered_by: str | None = None
    placed_by: str | None = None  # click-to-call: the clinician who asked for it
    duration_seconds: int = 0
    voicemail: VoicemailRef | None = None
    # The voicemail's transcript: None (not asked), "pending", "ready" or "failed". The
    # sealed text is read only through the staff API (functions/logic/transcription.py).
    transcript_status: str | None = None

    @property
    def call_id(self) -> str:
        """Our opaque call id, as adapters carry it."""
        return f"{self.tenant_id}/{self.conversation_id}/{self.call_ulid}"


def split_call_id(call_id: str) -> tuple[str, str, str]:
    """(tenant_id, conversation_id, call_ulid) of a call id; ValidationError otherwise."""
    tenant_id, conversation_id, call_ulid = require_call_id(call_id).split("/")
    return tenant_id, conversation_id, call_ulid


# --- routing settings (per tenant, admin-managed; no PHI) -----------------------------------


@dataclass(frozen=True)
class NumberRouting:
    """Who a business number rings: clinicians by user id (their cells are per user)."""

    business_number: str
    user_ids: tuple[str, ...] = ()
    strategy: RingStrategy = RingStrategy.SEQUENTIAL
    ring_seconds: int = 20


@dataclass(frozen=True)
class VoiceSettings:
    """A practice's voice settings; voice is off until an admin turns it on."""

    enabled: bool = False
    routes: tuple[NumberRouting, ...] = ()
    greeting_text: str = ""  # empty: the built-in greeting naming the practice
    greeting_recording_key: str | None = None
    max_voicemail_seconds: int = 120
    missed_call_text_enabled: bool = False
    missed_call_text: str = ""  # practice wording, no PHI; empty: the built-in wording
    # Voicemail transcription (Amazon Transcribe): off unless an admin opts in.
    transcribe_voicemail: bool = False

    def route_for(self, business_number: str) -> NumberRouting | None:
        return next((r for r in self.routes if r.business_number == business_number), None)

    def plain(self) -> dict[str, object]:
        """The settings as plain JSON-ready values, without the greeting recording's object
        key (the data layer stores it beside them; the API says only whether there is one)."""
        return {
            "enabled": self.enabled,
            "routes": [
                {
                    "business_number": r.business_number,
                    "user_ids": list(r.user_ids),
                    "strategy": r.strategy.value,
                    "ring_seconds": r.ring_seconds,
                }
                for r in self.routes
            ],
            "greeting_text": self.greeting_text,
            "max_voicemail_seconds": self.max_voicemail_seconds,
            "missed_call_text_enabled": self.missed_call_text_enabled,
            "missed_call_text": self.missed_call_text,
            "transcribe_voicemail": self.transcribe_voicemail,
        }
