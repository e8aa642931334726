"""Carrier-neutral records: what arrives from a carrier, what we hand to one, and the port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from functions.core.errors import ValidationError
from functions.core.models import MessageStatus
from functions.core.phone import require_e164

# Carrier message ids are short (Twilio SM + 32 hex, AWS UUIDs); a bound keeps keys sane.
_MAX_ID_LENGTH = 128


def require_text(value: Any, field: str, *, allow_empty: bool = False) -> str:
    """`value` if it is a (non-blank) string; else ValidationError naming `field`, not the value."""
    if value is None:
        raise ValidationError(field, "is required")
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    if not allow_empty and not value.strip():
        raise ValidationError(field, "must not be empty")
    return value


def require_id(value: Any, field: str) -> str:
    text = require_text(value, field)
    if len(text) > _MAX_ID_LENGTH or not text.isprintable():
        raise ValidationError(field, "is not a carrier id")
    return text


def require_phone(value: Any, field: str) -> str:
    """A number exactly in E.164, as carriers send them; anything else names `field`."""
    return require_e164(require_text(value, field), field=field)


@dataclass(frozen=True)
class InboundSms:
    """A text a client sent to a business number; both numbers exactly E.164."""

    carrier: str
    carrier_message_id: str
    from_number: str
    to_number: str
    body: str
    received_at: str

    def __post_init__(self) -> None:
        # Parsers pass raw payload values straight in, so this is where malformed input stops.
        require_text(self.carrier, "carrier")
        require_id(self.carrier_message_id, "carrier_message_id")
        object.__setattr__(self, "from_number", require_phone(self.from_number, "from"))
        object.__setattr__(self, "to_number", require_phone(self.to_number, "to"))
        require_text(self.body, "body", allow_empty=True)  # media-only texts have no body
        require_text(self.received_at, "received_at")


@dataclass(frozen=True)
class OutboundSms:
    """A text to send. `origination_number` may also be a carrier sender id (pool, ARN, MG...)."""

    origination_number: str
    destination_number: str
    body: str
    message_id: str  # ours: carried to the carrier so delivery events can find the message
    tenant_id: str

    def __post_init__(self) -> None:
        require_text(self.origination_number, "origination_number")
        object.__setattr__(self, "destination_number", require_phone(self.destination_number, "to"))
        require_text(self.body, "body")
        require_text(self.message_id, "message_id")
        require_text(self.tenant_id, "tenant_id")


@dataclass(frozen=True)
class SendResult:
    carrier_message_id: str


@dataclass(frozen=True)
class DeliveryEvent:
    """A carrier's report on an outbound text.

    `status` None means an intermediate status we ignore; `message_id` is ours when the
    carrier echoes it back; `reason` is a short code (carrier error code or event type),
    never free text, so it can be stored and logged.
    """

    carrier: str
    carrier_message_id: str
    status: MessageStatus | None
    message_id: str | None
    reason: str | None
    occurred_at: str

    def __post_init__(self) -> None:
        require_text(self.carrier, "carrier")
        require_id(self.carrier_message_id, "carrier_message_id")
        require_text(self.occurred_at, "occurred_at")


class Carrier(Protocol):
    """Port for sending; raises PermanentCarrierError or TransientCarrierError on failure."""

    name: str

    def send(self, sms: OutboundSms) -> SendResult: ...
