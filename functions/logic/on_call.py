"""The on-call rota: who answers outside office hours, at a given instant.

Two kinds of entry, both in the practice's time zone (AfterHours.timezone), so a rota
keeps its wall-clock times across daylight-saving changes:

- weekly slots, from a weekday and time to a weekday and time ("Friday 17:00 to Monday
  09:00"); a slot whose end is not after its start wraps past Sunday night;
- date ranges ("2026-12-24T17:00" to "2026-12-27T09:00"), for holidays and swaps.

A date range wins over the weekly slots; among entries of one kind, the first listed
wins. Only active staff of the same tenant are ever returned (see `candidates`): the
caller skips a departed or disabled clinician and takes the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from functions.core.care import OnCallRota
from functions.core.errors import ValidationError
from functions.logic.after_hours import is_hhmm

MINUTES_PER_WEEK = 7 * 24 * 60
MAX_ENTRIES = 100


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _week_minute(day: int, hhmm: str) -> int:
    return (day - 1) * 1440 + _minutes(hhmm)


def _local(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=None)


def candidates(rota: OnCallRota, timezone: str, now: datetime) -> Iterator[str]:
    """The user ids on call at `now`, best first (ranges, then weekly slots)."""
    local = now.astimezone(ZoneInfo(timezone))
    wall = local.replace(tzinfo=None)
    for entry in rota.ranges:
        if _local(entry.starts) <= wall < _local(entry.ends):
            yield entry.user_id
    minute = _week_minute(local.isoweekday(), local.strftime("%H:%M"))
    for slot in rota.weekly:
        start = _week_minute(slot.from_day, slot.from_time)
        end = _week_minute(slot.to_day, slot.to_time)
        inside = start <= minute < end if start < end else (minute >= start or minute < end)
        if inside:
            yield slot.user_id


def on_call(
    rota: OnCallRota, timezone: str, now: datetime, is_active: Callable[[str], bool]
) -> str | None:
    """The first candidate who is still active staff; None when nobody is on call."""
    for user_id in dict.fromkeys(candidates(rota, timezone, now)):
        if is_active(user_id):
            return user_id
    return None


def validate_rota(rota: OnCallRota, is_active: Callable[[str], bool]) -> None:
    """Well-formed entries naming active staff of this tenant (ValidationError names why)."""
    if len(rota.weekly) + len(rota.ranges) > MAX_ENTRIES:
        raise ValidationError("rota", f"at most {MAX_ENTRIES} entries")
    for slot in rota.weekly:
        if slot.from_day not in range(1, 8) or slot.to_day not in range(1, 8):
            raise ValidationError("rota.weekly", "days are 1 (Monday) to 7 (Sunday)")
        if not (is_hhmm(slot.from_time) and is_hhmm(slot.to_time)):
            raise ValidationError("rota.weekly", "times are HH:MM")
        if _week_minute(slot.from_day, slot.from_time) == _week_minute(slot.to_day, slot.to_time):
            raise ValidationError("rota.weekly", "a slot must not start where it ends")
    for entry in rota.ranges:
        try:
            starts, ends = _local(entry.starts), _local(entry.ends)
        except ValueError:
            raise ValidationError("rota.ranges", "times are YYYY-MM-DDTHH:MM") from None
        if not starts < ends:
            raise ValidationError("rota.ranges", "each range must start before it ends")
    for user_id in sorted(rota.user_ids()):
        if not is_active(user_id):
            raise ValidationError("rota", "every clinician on the rota must be active staff")
