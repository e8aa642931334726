"""Appointments read from a CSV file or an iCalendar (.ics) file/feed, before any lookup.

Only what a reminder needs is kept: the client's number (to find the conversation,
never stored with the appointment), the start, the duration, the source's own id and
whether the source cancelled it. Titles, descriptions, locations and attendees' names
are read past and dropped: an EHR's export can carry a diagnosis in a SUMMARY line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from functions.core.errors import ValidationError
from functions.core.schedule import parse_local

MAX_ROWS = 2000
MAX_IMPORT_BYTES = 1_000_000
_PHONE_IN_TEXT = re.compile(r"\+?[\d][\d\s().-]{8,18}\d")


@dataclass(frozen=True)
class ImportedAppointment:
    row: int  # 1-based row/event number, what an import report names (never a value)
    phone: str  # as written; normalised to E.164 by the caller
    start: datetime  # UTC
    duration_minutes: int
    external_id: str | None
    cancelled: bool = False


@dataclass(frozen=True)
class ImportProblem:
    row: int
    field: str
    problem: str


def read_csv(text: str, zone: ZoneInfo) -> tuple[list[ImportedAppointment], list[ImportProblem]]:
    """Columns: phone, start (YYYY-MM-DD HH:MM, practice time, or ISO with an offset),
    duration_minutes (optional, 50), id (optional: re-importing the same id updates it)."""
    if len(text.encode()) > MAX_IMPORT_BYTES:
        raise ValidationError("file", "must be at most 1 MB")
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower() for c in (reader.fieldnames or [])}
    if not {"phone", "start"} <= columns:
        raise ValidationError("file", "needs the columns phone and start")
    found: list[ImportedAppointment] = []
    problems: list[ImportProblem] = []
    for number, raw in enumerate(reader, start=1):
        if number > MAX_ROWS:
            raise ValidationError("file", f"must have at most {MAX_ROWS} rows")
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        try:
            start = parse_local(row.get("start", "").replace(" ", "T", 1), zone)
        except ValidationError:
            problems.append(ImportProblem(number, "start", "is not a date and time"))
            continue
        duration = row.get("duration_minutes") or "50"
        if not duration.isdigit() or not 5 <= int(duration) <= 480:
            problems.append(ImportProblem(number, "duration_minutes", "must be 5 to 480"))
            continue
        found.append(
            ImportedAppointment(
                number,
                row.get("phone", ""),
                start,
                int(duration),
                row.get("id") or None,
                row.get("status", "").lower() == "cancelled",
            )
        )
    return found, problems


def read_ics(
    data: bytes, zone: ZoneInfo, *, today: date
) -> tuple[list[ImportedAppointment], list[ImportProblem]]:
    """VEVENTs from today on. The number comes from an ATTENDEE or X-QUIETLINE-PHONE as a
    tel: URI, else the first phone-shaped text in DESCRIPTION (read, never kept)."""
    from icalendar import Calendar  # noqa: PLC0415 - only imports load it

    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationError("file", "must be at most 1 MB")
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError):
        raise ValidationError("file", "is not an iCalendar file") from None
    found: list[ImportedAppointment] = []
    problems: list[ImportProblem] = []
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        if number > MAX_ROWS:
            raise ValidationError("file", f"must have at most {MAX_ROWS} events")
        start = _instant(event.get("DTSTART"), zone)
        if start is None:
            problems.append(ImportProblem(number, "DTSTART", "is not a date-time"))
            continue
        if start.astimezone(zone).date() < today:
            continue
        phone = _phone_of(event)
        if not phone:
            problems.append(ImportProblem(number, "ATTENDEE", "has no tel: number"))
            continue
        end = _instant(event.get("DTEND"), zone)
        duration = int((end - start).total_seconds() // 60) if end and end > start else 50
        uid = event.get("UID")
        found.append(
            ImportedAppointment(
                number,
                phone,
                start,
                max(5, min(duration, 480)),
                str(uid) if uid else None,
                str(event.get("STATUS", "")).upper() == "CANCELLED",
            )
        )
    return found, problems


def _instant(prop: object, zone: ZoneInfo) -> datetime | None:
    value = getattr(prop, "dt", None)
    if not isinstance(value, datetime):
        return None  # an all-day event is not a session
    if value.tzinfo is None:  # floating time: the practice's wall clock
        return parse_local(value.strftime("%Y-%m-%dT%H:%M"), zone)
    return value.astimezone(UTC)


def _phone_of(event: object) -> str | None:
    get = getattr(event, "get", None)
    if get is None:
        return None
    candidates: list[object] = []
    for name in ("X-QUIETLINE-PHONE", "ATTENDEE"):
        value = get(name)
        candidates += value if isinstance(value, list) else [value]
    for value in candidates:
        text = str(value or "")
        if text.lower().startswith("tel:"):
            return text[4:].strip()
        if text and name_is_phone(text):
            return text.strip()
    match = _PHONE_IN_TEXT.search(str(get("DESCRIPTION") or ""))
    return match.group(0) if match else None


def name_is_phone(text: str) -> bool:
    return bool(_PHONE_IN_TEXT.fullmatch(text.strip()))


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A local calendar day as a UTC half-open range (23 or 25 hours across DST)."""
    from functions.core.schedule import local_to_utc  # noqa: PLC0415

    midnight = datetime.min.time()
    return local_to_utc(day, midnight, zone), local_to_utc(day + timedelta(days=1), midnight, zone)
