"""Scheduled messages and reminders in Chromium against the local runtime: schedule a text
and see it reach the phone once the scheduler's clock passes its time; book a session, let
its reminder go out, confirm it from the phone simulator and see it in the day view.

Local mode's scheduler clock moves only forward (POST /local/clock/advance): each test
aims at a time relative to where that clock is, so the tests may run in any order.
Synthetic data only: 555-01xx numbers and made-up text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.helpers import (
    http,
    open_conversation_with,
    phone_page,
    sign_in,
    text_from_phone,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

PRACTICE = ZoneInfo("America/New_York")  # the demo practice's (default) time zone
SCHEDULED_CLIENT = "+12065550185"  # not a demo-seed number: this test names the client
REMINDED_CLIENT = "+12065550132"
SCHEDULED_BODY = "A scheduled note: the office is closed on Friday."
CONFIRMED = "Thank you, your appointment is confirmed."


def _scheduler_now(runtime: dict[str, Any]) -> datetime:
    status, answer = http("GET", runtime["base_url"] + "/local/clock")
    assert status == 200
    return datetime.fromisoformat(answer["now"].replace("Z", "+00:00"))


def _advance_to(runtime: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """Move the scheduler's clock to just past `moment` (never back) and sweep."""
    minutes = max(0.0, (moment - _scheduler_now(runtime)).total_seconds() / 60) + 1
    status, answer = http(
        "POST", runtime["base_url"] + "/local/clock/advance", {"minutes": minutes}
    )
    assert status == 200
    result: dict[str, Any] = answer
    return result


def _day_after_the_clock(runtime: dict[str, Any], days: int, hour: int) -> datetime:
    """`hour`:00 practice time, `days` days after the scheduler's clock (outside quiet hours)."""
    local = _scheduler_now(runtime).astimezone(PRACTICE) + timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def _open_with_consent(page: Page, number: str, first_text: str) -> None:
    """Open the client's conversation and record their plain-text consent."""
    # No Refresh button: the live socket brings the new conversation in.
    open_conversation_with(page, first_text)
    expect(page.locator("#contact-phone")).to_have_text(number)
    page.locator("#contact-name-input").fill("Alex Demo")
    page.locator("#contact-form input[name=consent][value=plain_sms]").check()
    page.locator("#consent-confirm").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()


def test_a_scheduled_text_reaches_the_phone_once_the_clock_passes_its_time(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    first_text = "Hello from the scheduling test."
    text_from_phone(runtime, SCHEDULED_CLIENT, first_text)
    sign_in(page, runtime)
    _open_with_consent(page, SCHEDULED_CLIENT, first_text)

    # Given a text scheduled for noon tomorrow (practice time)
    due = _day_after_the_clock(runtime, 1, 12)
    page.locator("#schedule-at").fill(due.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#schedule-body").fill(SCHEDULED_BODY)
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_text("Message scheduled.")).to_be_visible()
    expect(page.locator("#schedule-list li", has_text=SCHEDULED_BODY)).to_be_visible()
    phone = phone_page(context, runtime, SCHEDULED_CLIENT)
    expect(phone.locator("#bubbles .from-practice", has_text=SCHEDULED_BODY)).to_have_count(0)

    # When the scheduler's clock passes noon tomorrow
    assert _advance_to(runtime, due.astimezone(UTC))["sweep"]["sent"] >= 1

    # Then the phone gets it, and the thread lists it as pending no more
    expect(phone.locator("#bubbles .from-practice", has_text=SCHEDULED_BODY)).to_have_count(
        1, timeout=15_000
    )
    page.bring_to_front()
    # The open thread gets the sent text live (the socket says the conversation changed).
    expect(page.locator("#messages .message.outbound", has_text=SCHEDULED_BODY)).to_be_visible()


def test_a_reminder_is_confirmed_by_reply_from_the_phone_and_shows_in_the_day_view(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    first_text = "Hi, I booked a session for later this week."
    text_from_phone(runtime, REMINDED_CLIENT, first_text)
    sign_in(page, runtime)
    _open_with_consent(page, REMINDED_CLIENT, first_text)

    # Given a session at 10:00 three days after the scheduler's clock
    start = _day_after_the_clock(runtime, 3, 10)
    page.locator("#appointment-at").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page.get_by_text("Appointment booked; reminders are scheduled.")).to_be_visible()

    # When its 48-hour reminder falls due, the phone gets it
    _advance_to(runtime, (start - timedelta(hours=48)).astimezone(UTC))
    phone = phone_page(context, runtime, REMINDED_CLIENT)
    expect(phone.locator("#bubbles .from-practice", has_text="Reply C to confirm")).to_be_visible(
        timeout=15_000
    )

    # And the client answers C: acknowledged on the phone
    phone.locator("#sms-body").fill("C")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator("#bubbles .from-practice", has_text=CONFIRMED)).to_be_visible(
        timeout=15_000
    )

    # Then the day view shows the session confirmed
    page.bring_to_front()
    page.get_by_role("button", name="Appointments").click()
    page.locator("#appointments-day").fill(start.strftime("%Y-%m-%d"))
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#appointments-list li", has_text="10:00")).to_contain_text("Confirmed")
