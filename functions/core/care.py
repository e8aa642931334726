"""Domain records for after-hours care: the on-call rota and the crisis safety net's settings.

Kept in their own item (TENANT#<tenant> CARE), apart from the tenant profile, so the inbound
path reads them only when it needs them (functions/logic/care.py). None of it is PHI: staff
user ids, times and the practice's own wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WeeklySlot:
    user_id: str
    from_day: int  # ISO weekday, 1 = Monday
    from_time: str  # "HH:MM", practice-local
    to_day: int
    to_time: str


@dataclass(frozen=True)
class DateRange:
    user_id: str
    starts: str  # practice-local "YYYY-MM-DDTHH:MM"
    ends: str


@dataclass(frozen=True)
class OnCallRota:
    weekly: tuple[WeeklySlot, ...] = ()
    ranges: tuple[DateRange, ...] = ()

    def user_ids(self) -> set[str]:
        return {s.user_id for s in self.weekly} | {r.user_id for r in self.ranges}


@dataclass(frozen=True)
class CareSettings:
    """The rota, and the crisis safety net (on unless the practice turns it off)."""

    rota: OnCallRota = field(default_factory=OnCallRota)
    crisis_enabled: bool = True
    # category -> phrases; a category left out uses the built-in list (logic/crisis.py).
    crisis_phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    crisis_reply: str = ""  # "" means the built-in wording with 988, 911 and 741741
    page_after_hours: bool = True  # page the on-call clinician for every after-hours text
