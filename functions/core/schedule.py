"""Scheduled messages, appointments and reminder rules, and the time-zone arithmetic they share.

Records hold ids, times and encrypted bytes only: a schedule's body is sealed like a
message's (functions/crypto/contexts.py, `body_location` of the message id it will send
as), so nothing the scheduler reads or passes on is PHI.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.core.errors import ValidationError


class ScheduleKind(StrEnum):
    TEXT = "text"  # plain SMS (needs the client's plain_sms consent at send time)
    SECURE_LINK = "secure_link"  # the text is only a link notice
    REMINDER = "reminder"  # an appointment reminder (plain SMS, no clinical detail)


class ScheduleStatus(StrEnum):
    PENDING = "pending"  # waiting for its due time (its due pointer exists)
    SENT = "sent"  # handed to the outbound path (its message is queued or beyond)
    CANCELLED = "cancelled"  # by staff, or its appointment changed
    SKIPPED = "skipped"  # refused at send time: opted out, no consent, quiet hours
    FAILED = "failed"  # gave up after repeated faults (alarmed)


@dataclass(frozen=True)
class ScheduledMessage:
    tenant_id: str
    conversation_id: str
    schedule_id: str
    message_id: str  # fixed when scheduled: the body is sealed under it
    kind: ScheduleKind
    due_at: str  # UTC ISO (functions.core.clock.iso)
    body_record: bytes
    created_by: str
    created_at: str
    expires_at: int
    status: ScheduleStatus = ScheduleStatus.PENDING
    appointment_id: str | None = None
    attempts: int = 0
    reason: str | None = None
    sent_at: str | None = None


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"  # by the practice (the import or the inbox)


class ReplyKind(StrEnum):
    CONFIRMED = "confirmed"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Appointment:
    """A session time for a client's conversation; no title, notes or clinical detail."""

    tenant_id: str
    appointment_id: str  # a ULID of the start time: the day view is a key range
    conversation_id: str
    start_at: str  # UTC ISO
    duration_minutes: int
    source: str  # manual | csv | ics
    created_at: str
    expires_at: int
    status: AppointmentStatus = AppointmentStatus.BOOKED
    external_key: str | None = None  # hash of the import's own id (re-imports update)
    reply: ReplyKind | None = None
    reply_at: str | None = None
    reminders_sent: int = 0
    awaiting_since: str | None = None  # a reminder went out and no answer came yet
    schedule_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchedulingConfig:
    """Per-tenant scheduling rules. Times are the practice's local wall clock."""

    timezone: str = "America/New_York"
    # No scheduled text is handed to the carrier between these (it waits until the end).
    quiet_start: str = "21:00"
    quiet_end: str = "08:00"
    reminder_hours_before: tuple[int, ...] = (48, 2)
    # {practice} {date} {time} only: no clinician, service or diagnosis by default.
    reminder_template: str = (
        "Reminder from {practice}: your appointment is {date} at {time}. "
        "Reply C to confirm, R to reschedule, N to cancel."
    )
    confirmed_reply: str = "Thank you, your appointment is confirmed."
    reschedule_reply: str = "Thank you, the practice will contact you to find a new time."
    cancel_reply: str = "Thank you, the practice has been told you cannot come."
    updated_at: str = ""

    def zone(self) -> ZoneInfo:
        return zone_of(self.timezone)


def external_key_hash(tenant_id: str, external_id: str) -> str:
    """An import's own event id, hashed: it may be anything (an EHR can put a name in it)."""
    return hashlib.sha256(f"{tenant_id}\x00{external_id}".encode()).hexdigest()[:40]


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("timezone", "is not an IANA time zone") from None


def local_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """A practice's wall-clock time as a UTC instant, across DST changes.

    A time the spring-forward gap skips (02:30 on that Sunday in New York) does not exist:
    it is read as the same span after the gap starts (03:30), which is what a clock on
    the wall would show. A time the fall-back repeats (01:30) is read as its first,
    daylight-time occurrence (fold=0): earlier rather than an hour late.
    """
    # PEP 495's fold=0 does both: in a gap it applies the offset from before the gap
    # (which lands after it), in a repeat it picks the first occurrence.
    aware = datetime.combine(day, wall).replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC)


def parse_local(value: str, zone: ZoneInfo) -> datetime:
    """'YYYY-MM-DDTHH:MM' (practice time) or an ISO instant with an offset, as UTC."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        raise ValidationError("send_at", "must be YYYY-MM-DDTHH:MM in the practice's time zone")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            "send_at", "must be YYYY-MM-DDTHH:MM in the practice's time zone"
        ) from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    return local_to_utc(parsed.date(), parsed.time(), zone)


def parse_utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _hhmm(value: str) -> time:
    return time(int(value[:2]), int(value[3:5]))


def quiet_until(moment: datetime, config: SchedulingConfig) -> datetime | None:
    """The end of the quiet hours `moment` falls in (UTC), or None if it is not in them."""
    zone = config.zone()
    local = moment.astimezone(zone)
    start, end = _hhmm(config.quiet_start), _hhmm(config.quiet_end)
    if start == end:
        return None  # no quiet hours
    now = local.time()
    if start < end:  # e.g. 12:00-14:00 on the same day
        quiet = start <= now < end
        end_day = local.date()
    else:  # spans midnight, e.g. 21:00-08:00
        quiet = now >= start or now < end
        end_day = local.date() + timedelta(days=1) if now >= start else local.date()
    if not quiet:
        return None
    return local_to_utc(end_day, end, zone)


def reminder_due_times(start: datetime, hours_before: tuple[int, ...]) -> list[datetime]:
    """When each rule's reminder falls, earliest first (rules measure real elapsed hours)."""
    return sorted({start - timedelta(hours=h) for h in hours_before})


def validate_config(config: SchedulingConfig) -> None:
    zone_of(config.timezone)
    for name in ("quiet_start", "quiet_end"):
        value = getattr(config, name)
        if not (
            isinstance(value, str)
            and len(value) == 5
            and value[2] == ":"
            and value[:2].isdigit()
            and value[3:].isdigit()
            and int(value[:2]) < 24
            and int(value[3:]) < 60
        ):
            raise ValidationError(name, "must be HH:MM")
    if not config.reminder_hours_before or len(config.reminder_hours_before) > 4:
        raise ValidationError("reminder_hours_before", "needs one to four rules")
    if any(not 1 <= h <= 336 for h in config.reminder_hours_before):
        raise ValidationError("reminder_hours_before", "each rule is 1 to 336 hours")
    try:
        config.reminder_template.format(practice="", date="", time="")
    except (KeyError, IndexError, ValueError):
        raise ValidationError(
            "reminder_template", "may use only {practice}, {date} and {time}"
        ) from None
    for name in ("reminder_template", "confirmed_reply", "reschedule_reply", "cancel_reply"):
        text = getattr(config, name)
        if not text.strip() or len(text) > 320:
            raise ValidationError(name, "must be 1 to 320 characters")
