"""The message table's stream records (Lambda hands them over), read as what logic needs.

A record's image is DynamoDB's typed JSON ({"S": "..."}); only plain attributes are read
here, never an encrypted one. The event source mapping already filters the stream
(functions/dal/schema.py NEW_INBOUND_MESSAGE_FILTER); this checks the same again, so a
filter changed by hand cannot turn every write into an e-mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.core.errors import ValidationError
from functions.core.models import Direction
from functions.dal.schema import MESSAGE_SORT_KEY_PREFIX, SORT_KEY
from functions.logic.staff_alerts import NewInboundMessage


def _text(image: Mapping[str, Any], name: str) -> str:
    value = image.get(name)
    return str(value.get("S", "")) if isinstance(value, Mapping) else ""


def new_message(record: Mapping[str, Any]) -> tuple[NewInboundMessage, Direction] | None:
    """The message a stream record announces, and its direction; None for any other change."""
    if record.get("eventName") != "INSERT":
        return None
    change = record.get("dynamodb") or {}
    image = change.get("NewImage") or {}
    if not _text(image, SORT_KEY).startswith(MESSAGE_SORT_KEY_PREFIX):
        return None
    try:
        direction = Direction(_text(image, "direction"))
    except ValueError:
        return None
    tenant_id, position = _text(image, "tenant_id"), str(change.get("SequenceNumber") or "")
    if not (tenant_id and position):
        raise ValidationError("record", "a message insert without its tenant or sequence number")
    return NewInboundMessage(tenant_id, position, _text(image, "conversation_id")), direction


def new_inbound_message(record: Mapping[str, Any]) -> NewInboundMessage | None:
    """The inbound message a stream record announces; None for any other change."""
    found = new_message(record)
    return found[0] if found is not None and found[1] is Direction.INBOUND else None
