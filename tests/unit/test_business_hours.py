"""Business hours with holidays and time zones, and the on-call rota's resolution."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.core.care import DateRange, OnCallRota, WeeklySlot
from functions.core.errors import ValidationError
from functions.core.models import AfterHours
from functions.logic.after_hours import (
    after_hours_text,
    is_after_hours,
    should_auto_reply,
    validate_after_hours,
)
from functions.logic.on_call import on_call, validate_rota

pytestmark = pytest.mark.unit

NY = "America/New_York"
RULE = AfterHours(enabled=True, timezone=NY, holidays=("2026-12-25",))
EVERYONE = lambda _user: True  # noqa: E731 - a roster where all are active staff


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_given_a_weekday_inside_hours_in_the_practices_zone_then_it_is_open() -> None:
    # 14:30 UTC on Wednesday 2026-12-02 is 09:30 in New York (EST, UTC-5).
    assert not is_after_hours(RULE, utc(2026, 12, 2, 14, 30))


def test_given_the_same_utc_time_in_summer_then_dst_moves_the_local_hour() -> None:
    # 13:30 UTC is 09:30 EDT in July (open) but 08:30 EST in December (closed).
    assert not is_after_hours(RULE, utc(2026, 7, 1, 13, 30))
    assert is_after_hours(RULE, utc(2026, 12, 2, 13, 30))


def test_given_a_holiday_on_a_weekday_then_it_is_after_hours_all_day() -> None:
    # Friday 2026-12-25, 11:00 in New York.
    assert is_after_hours(RULE, utc(2026, 12, 25, 16, 0))


def test_given_a_holiday_then_it_is_judged_by_the_practices_local_date() -> None:
    # 03:00 UTC on the 26th is still the 25th (22:00) in New York: a holiday evening.
    late = AfterHours(timezone=NY, holidays=("2026-12-25",), hours={5: ("00:00", "23:59")})
    assert is_after_hours(late, utc(2026, 12, 26, 3, 0))
    assert not is_after_hours(late, utc(2027, 1, 2, 3, 0))  # the next Friday, open till 23:59


def test_given_no_wording_then_the_after_hours_reply_names_988_and_911() -> None:
    text = after_hours_text(AfterHours(enabled=True), "Harbor Counseling")
    assert "988" in text and "911" in text and "not monitored" in text
    assert text.startswith("Harbor Counseling")


def test_given_the_practices_own_wording_then_it_is_used_as_written() -> None:
    assert after_hours_text(AfterHours(text="Closed. Call 911."), "Harbor") == "Closed. Call 911."


def test_given_the_reply_on_with_no_wording_then_an_auto_reply_is_still_due() -> None:
    assert should_auto_reply(AfterHours(enabled=True, timezone=NY), utc(2026, 12, 6, 12), None)


def test_given_a_malformed_holiday_then_validation_names_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_after_hours(AfterHours(holidays=("25/12/2026",)))
    assert caught.value.field == "after_hours.holidays"


WEEKEND = WeeklySlot("u-ana", 5, "17:00", 1, "09:00")  # Friday 17:00 -> Monday 09:00
WEEKNIGHT = WeeklySlot("u-ben", 1, "17:00", 5, "17:00")  # Monday 17:00 -> Friday 17:00


def test_given_a_slot_that_wraps_past_sunday_then_saturday_and_monday_morning_are_covered() -> None:
    rota = OnCallRota(weekly=(WEEKEND,))
    assert on_call(rota, NY, utc(2026, 12, 5, 18), EVERYONE) == "u-ana"  # Saturday 13:00
    assert on_call(rota, NY, utc(2026, 12, 7, 13), EVERYONE) == "u-ana"  # Monday 08:00
    assert on_call(rota, NY, utc(2026, 12, 7, 15), EVERYONE) is None  # Monday 10:00


def test_given_a_date_range_then_it_wins_over_the_weekly_slot() -> None:
    swap = DateRange("u-cy", "2026-12-05T00:00", "2026-12-06T00:00")
    rota = OnCallRota(weekly=(WEEKEND,), ranges=(swap,))
    assert on_call(rota, NY, utc(2026, 12, 5, 18), EVERYONE) == "u-cy"
    assert on_call(rota, NY, utc(2026, 12, 6, 18), EVERYONE) == "u-ana"


def test_given_a_range_in_local_time_then_the_dst_change_keeps_its_wall_clock_end() -> None:
    # DST ends 2026-11-01 at 02:00 EDT; a range ending 09:00 local ends at 14:00 UTC (EST).
    rota = OnCallRota(ranges=(DateRange("u-cy", "2026-10-31T17:00", "2026-11-01T09:00"),))
    assert on_call(rota, NY, utc(2026, 11, 1, 13, 59), EVERYONE) == "u-cy"
    assert on_call(rota, NY, utc(2026, 11, 1, 14, 0), EVERYONE) is None


def test_given_the_named_clinician_is_no_longer_active_then_the_next_candidate_is_on_call() -> None:
    swap = DateRange("u-gone", "2026-12-05T00:00", "2026-12-06T00:00")
    rota = OnCallRota(weekly=(WEEKEND,), ranges=(swap,))
    assert on_call(rota, NY, utc(2026, 12, 5, 18), lambda u: u != "u-gone") == "u-ana"


def test_given_a_rota_naming_someone_not_active_staff_then_it_is_refused() -> None:
    with pytest.raises(ValidationError):
        validate_rota(OnCallRota(weekly=(WEEKNIGHT,)), lambda u: u != "u-ben")


def test_given_a_range_that_ends_before_it_starts_then_it_is_refused() -> None:
    backwards = DateRange("u-ana", "2026-12-06T00:00", "2026-12-05T00:00")
    with pytest.raises(ValidationError):
        validate_rota(OnCallRota(ranges=(backwards,)), EVERYONE)


def test_given_a_slot_with_a_bad_time_then_it_is_refused() -> None:
    with pytest.raises(ValidationError):
        validate_rota(OnCallRota(weekly=(WeeklySlot("u-ana", 1, "25:00", 2, "09:00"),)), EVERYONE)
