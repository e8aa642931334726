"""The crisis safety net in the web inbox, in Chromium against the local runtime (#16): a
crisis text from the phone simulator is answered with crisis resources, listed urgent at
the top of the inbox, pages the on-call clinician (visible in the simulated carrier's
outbox for their cell, with no client detail), and a staff member clears the flag.

Synthetic data only: 555-01xx numbers, a made-up message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from tests.browser.helpers import http, id_token, screenshot, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

CRISIS_CLIENT = "+12065550131"
CRISIS_TEXT = "I can't do this anymore. I want to end my life tonight."
DEMO_CELL = "+12065550142"  # the demo clinician's forwarding cell (local/demo_seed.py)
URGENT_PAGE = "Urgent message in Quietline \u2014 open the inbox"


def _api(runtime: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": id_token(runtime, "admin")}
    status, answer = http(method, runtime["base_url"] + path, body, headers)
    assert status < 300, (status, answer)
    return answer


@pytest.fixture
def clinician_on_call(runtime: dict[str, Any]) -> Iterator[str]:
    """The demo clinician on call from yesterday to tomorrow; the defaults again after."""
    users = _api(runtime, "GET", "/users")["items"]
    clinician = next(u["user_id"] for u in users if u["role"] == "clinician")
    now = datetime.now(UTC)
    span = {
        "user_id": clinician,
        "starts": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    }
    _api(runtime, "PUT", "/care-settings", {"ranges": [span]})
    yield clinician
    _api(runtime, "PUT", "/care-settings", {})
    for item in _api(runtime, "GET", "/urgent-conversations")["items"]:
        _api(runtime, "DELETE", f"/conversations/{quote(item['conversation_id'])}/urgent")


def _outbox(runtime: dict[str, Any], number: str) -> list[dict[str, Any]]:
    status, sent = http("GET", f"{runtime['outbox_url']}?to={quote(number)}")
    assert status == 200
    return list(sent)


def test_a_crisis_text_is_flagged_urgent_at_the_top_and_pages_the_on_call_clinician(
    context: BrowserContext, page: Page, runtime: dict[str, Any], clinician_on_call: str
) -> None:
    pages_before = len(_outbox(runtime, DEMO_CELL))
    # Given the client texts a crisis phrase from the phone simulator
    phone = context.new_page()
    phone.goto(runtime["base_url"] + "/phone")
    expect(phone.locator("body")).to_have_attribute("data-ready", "true")
    phone.locator("#client-number").fill(CRISIS_CLIENT)
    phone.get_by_role("button", name="Use this number").click()
    expect(phone.get_by_text("Number set.")).to_be_visible()
    phone.locator("#sms-body").fill(CRISIS_TEXT)
    phone.locator("#sms-form").get_by_role("button", name="Send").click()

    # Then the phone receives the crisis resources at once
    expect(phone.locator("#bubbles")).to_contain_text("988", timeout=20_000)
    expect(phone.locator("#bubbles")).to_contain_text("741741")

    # And the on-call clinician's cell got the page, which says nothing about the client
    pages = _outbox(runtime, DEMO_CELL)[pages_before:]
    assert [p["body"] for p in pages] == [URGENT_PAGE]

    # When an admin opens the inbox, the conversation is first in the list, marked urgent
    sign_in(page, runtime, "admin")
    first = page.locator("#conversation-list button.conversation").first
    expect(first).to_have_class(re.compile(r"\burgent\b"), timeout=20_000)
    expect(first.locator(".urgent-label")).to_have_text("Urgent")
    first.click()
    banner = page.locator("#urgent-banner")
    expect(banner).to_contain_text("Urgent")
    expect(page.locator("#messages")).to_contain_text(CRISIS_TEXT)
    screenshot(page, "crisis-urgent")

    # When they clear the flag, the mark and the banner go
    with page.expect_response(lambda r: r.request.method == "DELETE") as cleared:
        page.get_by_role("button", name="Clear urgent flag").click()
    assert cleared.value.status == 204
    expect(banner).to_have_count(0)
    expect(page.locator("#conversation-list button.urgent")).to_have_count(0)
    assert _api(runtime, "GET", "/urgent-conversations")["items"] == []


def test_an_admin_sets_the_rota_a_holiday_and_the_crisis_reply_in_the_inbox(
    page: Page, runtime: dict[str, Any]
) -> None:
    try:
        sign_in(page, runtime, "admin")
        page.get_by_role("button", name="Admin").click()
        # A holiday in Settings
        page.get_by_role("button", name="Settings", exact=True).click()
        expect(page.locator("#settings-form[data-loaded]")).to_be_visible()
        page.locator("#after-holidays").fill("2026-12-25, 2027-01-01")
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_text("Settings saved.")).to_be_visible()
        # A weekend slot and the practice's own crisis reply in After-hours care
        page.get_by_role("button", name="After-hours care").click()
        expect(page.locator("#care-form[data-loaded]")).to_be_visible()
        page.get_by_role("button", name="Add a weekly slot").click()
        page.locator("#care-crisis-reply").fill("Call 911, or call or text 988.")
        page.get_by_role("button", name="Save after-hours care").click()
        expect(page.get_by_text("After-hours care saved.")).to_be_visible()
        # Both survive a reload of the tab, read back from the API
        saved = _api(runtime, "GET", "/care-settings")
        assert [(s["from_day"], s["to_day"]) for s in saved["weekly"]] == [(5, 1)]
        assert saved["crisis_reply"] == "Call 911, or call or text 988."
        expect(page.locator("#care-weekly .care-weekly")).to_have_count(1)
        settings = _api(runtime, "GET", "/settings")
        assert settings["after_hours"]["holidays"] == ["2026-12-25", "2027-01-01"]
    finally:
        _api(runtime, "PUT", "/care-settings", {})
        settings = _api(runtime, "GET", "/settings")
        settings["after_hours"]["holidays"] = []
        settings.pop("default_replies")  # GET only: the built-in wordings, not a setting
        _api(runtime, "PUT", "/settings", settings)
