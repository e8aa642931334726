"""After-hours auto-reply: when it applies, and at most once per client per window."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.core.errors import ValidationError
from functions.core.models import AfterHours

MAX_HOLIDAYS = 100
# Texts are not watched around the clock: the reply says so and where to turn instead.
DEFAULT_AFTER_HOURS_TEXT = (
    "{practice} is closed now and will reply during office hours. Texts are not monitored "
    "for emergencies: call or text 988 (Suicide & Crisis Lifeline), or call 911."
)


def validate_after_hours(rule: AfterHours) -> None:
    try:
        ZoneInfo(rule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("after_hours.timezone", "is not an IANA time zone") from None
    for day, (opens, closes) in rule.hours.items():
        if day not in range(1, 8):
            raise ValidationError("after_hours.hours", "days are 1 (Monday) to 7 (Sunday)")
        if not (is_hhmm(opens) and is_hhmm(closes) and opens < closes):
            raise ValidationError("after_hours.hours", "each day needs HH:MM open before close")
    if len(rule.holidays) > MAX_HOLIDAYS:
        raise ValidationError("after_hours.holidays", f"at most {MAX_HOLIDAYS} dates")
    for holiday in rule.holidays:
        try:
            date.fromisoformat(holiday)
        except ValueError:
            raise ValidationError("after_hours.holidays", "dates are YYYY-MM-DD") from None
    if not 1 <= rule.window_minutes <= 10_080:
        raise ValidationError("after_hours.window_minutes", "must be 1 to 10080 (a week)")


def is_hhmm(value: str) -> bool:
    """A 24-hour wall-clock time, "HH:MM" (office hours, the on-call rota)."""
    return (
        len(value) == 5
        and value[2] == ":"
        and value[:2].isdigit()
        and value[3:].isdigit()
        and int(value[:2]) < 24
        and int(value[3:]) < 60
    )


def is_after_hours(rule: AfterHours, now: datetime) -> bool:
    """Outside the weekly hours, or on one of the practice's holidays (its local date)."""
    local = now.astimezone(ZoneInfo(rule.timezone))
    if local.date().isoformat() in rule.holidays:
        return True
    span = rule.hours.get(local.isoweekday())
    if span is None:
        return True
    return not span[0] <= local.strftime("%H:%M") < span[1]


def after_hours_text(rule: AfterHours, practice_name: str) -> str:
    """The practice's wording, or the built-in one (which names 988 and 911)."""
    if rule.text.strip():
        return rule.text
    return DEFAULT_AFTER_HOURS_TEXT.format(practice=practice_name)


def should_auto_reply(rule: AfterHours, now: datetime, last_auto_reply_at: datetime | None) -> bool:
    if not rule.enabled or not is_after_hours(rule, now):
        return False
    return last_auto_reply_at is None or now - last_auto_reply_at >= timedelta(
        minutes=rule.window_minutes
    )
