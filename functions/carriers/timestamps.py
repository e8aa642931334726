"""Carrier timestamps in the one form Quietline stores (functions.core.clock.iso)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.core.clock import iso
from functions.core.errors import ValidationError


def utc_now() -> str:
    return iso(datetime.now(UTC))


def from_epoch_ms(value: object, *, field: str) -> str:
    """Carrier epoch-millisecond timestamps (e.g. AWS eventTimestamp) in our form."""
    # bool is an int subclass: `true` is not a timestamp.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(field, "must be epoch milliseconds")
    try:
        # Integer arithmetic: value / 1000 as a float can lose the last millisecond.
        seconds, millis = divmod(value, 1000)
        return iso(datetime.fromtimestamp(seconds, UTC) + timedelta(milliseconds=millis))
    except (OverflowError, OSError, ValueError):
        raise ValidationError(field, "is out of range") from None


def normalize_iso(value: object, *, field: str) -> str:
    """An ISO 8601 timestamp with an offset (e.g. SNS's Timestamp) in our form."""
    if not isinstance(value, str) or not value:
        raise ValidationError(field, "must be an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, "must be an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        # A timestamp without an offset is ambiguous; carriers always send UTC with one.
        raise ValidationError(field, "must carry a UTC offset")
    return iso(parsed)
