"""The admin's Reminders tab in Chromium against the local runtime (#16): the reminder rules
are saved through the form (a bad placeholder is refused next to its field), a CSV picked
as a file is imported with its counts and a row error by row number only, and the day view
lists the imported sessions.

Synthetic data only: 555-01xx numbers.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.helpers import http, id_token, sign_in, text_from_phone

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

PRACTICE = ZoneInfo("America/New_York")  # the demo practice's (default) time zone
IMPORTED_CLIENTS = ("+12065550161", "+12065550162")
NOT_A_CONTACT = "+12065550169"
TEMPLATE = "{practice}: see you {date} at {time}. Reply C, R or N."


def _api(runtime: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": id_token(runtime, "admin")}
    status, answer = http(method, runtime["base_url"] + path, body, headers)
    assert status < 300, (status, answer)
    return answer


def _conversation_count(runtime: dict[str, Any]) -> int:
    return len(_api(runtime, "GET", "/conversations?limit=100")["items"])


def _session_day(runtime: dict[str, Any]) -> datetime:
    """Midnight practice time six days after the scheduler's clock (which only moves on)."""
    status, answer = http("GET", runtime["base_url"] + "/local/clock")
    assert status == 200
    now = datetime.fromisoformat(answer["now"].replace("Z", "+00:00"))
    local = now.astimezone(PRACTICE) + timedelta(days=6)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _two_new_contacts(runtime: dict[str, Any]) -> None:
    before = _conversation_count(runtime)
    for number in IMPORTED_CLIENTS:
        text_from_phone(runtime, number, "Hello, a question about my next session.")
    deadline = time.monotonic() + 20
    while _conversation_count(runtime) < before + 2:
        assert time.monotonic() < deadline, "the inbound texts made no conversations"
        time.sleep(0.25)


def test_an_admin_saves_reminder_rules_and_imports_sessions_the_day_view_lists(
    page: Page, runtime: dict[str, Any]
) -> None:
    original = _api(runtime, "GET", "/scheduling-settings")
    try:
        sign_in(page, runtime, "admin")
        page.get_by_role("button", name="Admin").click()
        page.get_by_role("button", name="Reminders", exact=True).click()
        expect(page.locator("#reminders-form[data-loaded]")).to_be_visible()
        expect(page.locator("#reminders-hours")).to_have_value("48, 2")

        # Given a template with a placeholder the API does not fill: refused at the field
        page.locator("#reminders-hours").fill("24, 3")
        page.locator("#reminders-template").fill("Hi {name}, see you {date}.")
        page.get_by_role("button", name="Save reminder rules").click()
        expect(page.locator("#reminders-template-field-error")).to_be_visible()
        expect(page.locator("#reminders-template")).to_have_attribute("aria-invalid", "true")
        assert _api(runtime, "GET", "/scheduling-settings")["reminder_hours_before"] == [48, 2]

        # When the admin corrects it and saves, the API holds the new rules
        page.locator("#reminders-template").fill(TEMPLATE)
        page.get_by_role("button", name="Save reminder rules").click()
        expect(page.get_by_text("Reminder rules saved.")).to_be_visible()
        saved = _api(runtime, "GET", "/scheduling-settings")
        assert (saved["reminder_hours_before"], saved["reminder_template"]) == ([24, 3], TEMPLATE)
        expect(page.locator("#reminders-template")).to_have_value(TEMPLATE)

        # Given two contacts, a CSV of their sessions and a third row for a stranger
        _two_new_contacts(runtime)
        day = _session_day(runtime)
        rows = [
            "phone,start,duration_minutes,id",
            f"{IMPORTED_CLIENTS[0]},{day:%Y-%m-%d} 11:00,50,ehr-1",
            f"{IMPORTED_CLIENTS[1]},{day:%Y-%m-%d} 15:30,45,ehr-2",
            f"{NOT_A_CONTACT},{day:%Y-%m-%d} 16:30,50,ehr-3",
        ]
        page.locator("#import-file").set_input_files(
            {"name": "sessions.csv", "mimeType": "text/csv", "buffer": "\n".join(rows).encode()}
        )
        # When it is imported
        page.get_by_role("button", name="Import", exact=True).click()

        # Then the counts show, and the refused row by its number, never its phone number
        counts = page.locator("#import-counts")
        expect(counts).to_contain_text("Created 2, updated 0")
        expect(counts).to_contain_text("1 row skipped")
        expect(page.locator("#import-problems li")).to_have_text(["Row 3: phone is not a contact."])
        assert "555" not in page.locator("#tab-reminders").inner_text()

        # And the day view lists both imported sessions
        page.get_by_role("button", name="Appointments").click()
        page.locator("#appointments-day").fill(f"{day:%Y-%m-%d}")
        page.get_by_role("button", name="Show", exact=True).click()
        sessions = page.locator("#appointments-list li")
        expect(sessions.filter(has_text="11:00")).to_contain_text("50 min")
        expect(sessions.filter(has_text="15:30")).to_contain_text("45 min")
        expect(sessions).to_have_count(2)
    finally:
        original.pop("updated_at", None)  # set by the server, not a rule
        _api(runtime, "PUT", "/scheduling-settings", original)
