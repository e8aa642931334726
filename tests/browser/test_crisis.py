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
