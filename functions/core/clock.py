"""Time as a port, so logic can be tested at any instant; timestamps are UTC ISO-8601."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Millisecond UTC timestamps sort lexicographically, which the sort keys rely on."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def expiry(moment: datetime, days: int) -> int:
    """The DynamoDB TTL (epoch seconds) for something kept `days` days."""
    return int((moment + timedelta(days=days)).timestamp())
