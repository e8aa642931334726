"""After-hours auto-reply: when it applies, and at most once per client per window."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.core.errors import ValidationError
from functions.core.models import AfterHours


def validate_after_hours(rule: AfterHours) -> None:
    try:
        ZoneInfo(rule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("after_hours.timezone", "is not an IANA time zone") from None
    for day, (opens, closes) in rule.hours.items():
        if day not in range(1, 8):
            raise ValidationError("after_hours.hours", "days are 1 (Monday) to 7 (Sunday)")
        if not (_is_hhmm(opens) and _is_hhmm(closes) and opens < closes):
            raise ValidationError("after_hours.hours", "each day needs HH:MM open before close")
    if rule.enabled and not rule.text.strip():
        raise ValidationError("after_hours.text", "is required when the auto-reply is on")
    if not 1 <= rule.window_minutes <= 10_080:
        raise ValidationError("after_hours.window_minutes", "must be 1 to 10080 (a week)")


def _is_hhmm(value: str) -> bool:
    return (
        len(value) == 5
        and value[2] == ":"
        and value[:2].isdigit()
        and value[3:].isdigit()
        and int(value[:2]) < 24
        and int(value[3:]) < 60
    )


def is_after_hours(rule: AfterHours, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(rule.timezone))
    span = rule.hours.get(local.isoweekday())
    if span is None:
        return True
    return not span[0] <= local.strftime("%H:%M") < span[1]


def should_auto_reply(rule: AfterHours, now: datetime, last_auto_reply_at: datetime | None) -> bool:
    if not rule.enabled or not rule.text.strip() or not is_after_hours(rule, now):
        return False
    return last_auto_reply_at is None or now - last_auto_reply_at >= timedelta(
        minutes=rule.window_minutes
    )
