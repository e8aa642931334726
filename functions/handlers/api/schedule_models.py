"""Request bodies of the scheduling routes (scheduled messages, appointments, their rules)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class NewSchedule(_Body):
    # The practice's wall clock (YYYY-MM-DDTHH:MM), or an ISO instant with an offset.
    send_at: str = Field(min_length=10, max_length=40)
    body: str = Field(min_length=1, max_length=1600)
    mode: Literal["plain", "secure_link"] = "plain"


class NewAppointment(_Body):
    start: str = Field(min_length=10, max_length=40)
    duration_minutes: int = Field(default=50, ge=5, le=480)


class AppointmentImport(_Body):
    format: Literal["csv", "ics", "ics_url"]
    # The file's text (csv, ics) or the feed's https URL (ics_url).
    content: str = Field(min_length=1, max_length=1_000_000)


class SchedulingRules(_Body):
    timezone: str = Field(min_length=1, max_length=64)
    quiet_start: str = Field(min_length=5, max_length=5)
    quiet_end: str = Field(min_length=5, max_length=5)
    reminder_hours_before: list[int] = Field(min_length=1, max_length=4)
    reminder_template: str = Field(min_length=1, max_length=320)
    confirmed_reply: str = Field(min_length=1, max_length=320)
    reschedule_reply: str = Field(min_length=1, max_length=320)
    cancel_reply: str = Field(min_length=1, max_length=320)
