"""Due times in the practice's time zone (DST included), quiet hours, answers, feed refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from functions.core.errors import ValidationError
from functions.core.schedule import (
    ReplyKind,
    SchedulingConfig,
    local_to_utc,
    parse_local,
    quiet_until,
    reminder_due_times,
    validate_config,
)
from functions.dal.calendar_feed import CalendarFeedFetcher
from functions.logic.appointment_import import day_bounds
from functions.logic.reminder_replies import classify_answer
from functions.logic.reminders import id_bound

NEW_YORK = ZoneInfo("America/New_York")


def test_a_practice_time_in_winter_is_five_hours_behind_utc() -> None:
    assert parse_local("2026-12-01T09:00", NEW_YORK) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def test_a_practice_time_in_summer_is_four_hours_behind_utc() -> None:
    assert parse_local("2026-07-01T09:00", NEW_YORK) == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)


def test_a_time_skipped_by_spring_forward_lands_just_after_the_gap() -> None:
    # 2026-03-08 02:30 does not exist in New York; the wall clock reads 03:30 then.
    moment = local_to_utc(date(2026, 3, 8), time(2, 30), NEW_YORK)
    assert moment.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"


def test_a_time_repeated_by_fall_back_is_its_first_occurrence() -> None:
    moment = local_to_utc(date(2026, 11, 1), time(1, 30), NEW_YORK)
    assert moment == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not EST


def test_an_instant_with_an_offset_is_taken_as_given() -> None:
    assert parse_local("2026-12-01T09:00:00+01:00", NEW_YORK) == datetime(
        2026, 12, 1, 8, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("value", ["tomorrow", "2026-13-01T09:00", "", "2026-12-01T25:00"])
def test_a_send_time_that_is_not_a_date_and_time_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="send_at"):
        parse_local(value, NEW_YORK)


def test_a_48_hour_rule_counts_real_hours_across_the_fall_back() -> None:
    # A Monday 10:00 EST session after the Sunday change: 48 h before is Saturday 11:00 EDT.
    start = parse_local("2026-11-02T10:00", NEW_YORK)
    first, second = reminder_due_times(start, (48, 2))
    assert first.astimezone(NEW_YORK).strftime("%a %H:%M") == "Sat 11:00"
    assert second.astimezone(NEW_YORK).strftime("%a %H:%M") == "Mon 08:00"


def test_a_local_day_across_the_fall_back_is_25_hours() -> None:
    first, after = day_bounds(date(2026, 11, 1), NEW_YORK)
    assert (after - first).total_seconds() == 25 * 3600


def test_quiet_hours_that_span_midnight_end_the_next_morning() -> None:
    config = SchedulingConfig()  # 21:00-08:00 New York
    late = parse_local("2026-12-01T22:15", NEW_YORK)
    assert quiet_until(late, config) == parse_local("2026-12-02T08:00", NEW_YORK)
    early = parse_local("2026-12-02T06:00", NEW_YORK)
    assert quiet_until(early, config) == parse_local("2026-12-02T08:00", NEW_YORK)


def test_daytime_is_not_quiet() -> None:
    assert quiet_until(parse_local("2026-12-01T08:00", NEW_YORK), SchedulingConfig()) is None


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ("C", ReplyKind.CONFIRMED),
        (" y. ", ReplyKind.CONFIRMED),
        ("Yes!", ReplyKind.CONFIRMED),
        ("r", ReplyKind.RESCHEDULE),
        ("N", ReplyKind.CANCEL),
        ("cancel", ReplyKind.CANCEL),
        ("yes but can we talk about last week", None),
        ("I can't come", None),
    ],
)
def test_only_a_whole_text_is_an_answer(body: str, answer: ReplyKind | None) -> None:
    assert classify_answer(body) is answer


def test_id_bounds_enclose_every_id_of_their_instants() -> None:
    moment = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    from functions.core.clock import epoch_ms
    from functions.core.ids import new_id

    inside = new_id(epoch_ms(moment))
    assert id_bound(moment, upper=False) <= inside <= id_bound(moment, upper=True)


def test_a_template_with_a_field_beyond_practice_date_and_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="reminder_template"):
        validate_config(SchedulingConfig(reminder_template="See {clinician} on {date}"))


@pytest.mark.parametrize(
    "url",
    [
        "http://calendar.example/feed.ics",  # not https
        "https://10.0.0.8/feed.ics",  # private
        "https://127.0.0.1/feed.ics",  # loopback
        "https://169.254.169.254/latest/meta-data",  # the instance metadata endpoint
        "https://user:secret@calendar.example/feed.ics",  # credentials
        "ftp://calendar.example/feed.ics",
        "http://127.0.0.1:8080/feed.ics",  # local http only where local mode allows it
    ],
)
def test_a_feed_url_that_could_reach_inside_is_refused_before_any_connection(url: str) -> None:
    with pytest.raises(ValidationError, match="url"):
        CalendarFeedFetcher().fetch(url)
