"""Live updates in Chromium: a text sent from the phone simulator shows in an open inbox
within 2 s, with no reload and no Refresh button; the socket is told ids only, and the
inbox fetches only what changed. Synthetic data only (555-01xx numbers, made-up text)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.helpers import sign_in, text_from_phone

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, WebSocket

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

LIVE_CLIENT = "+12065550121"
FIRST = "Hello, a first text for the live test."
SECOND = "And a second one, while the thread is open."
ARRIVAL_LIMIT_MS = 2000


def _phone_sends(context: BrowserContext, runtime: dict[str, Any], body: str) -> Page:
    phone = context.new_page()
    phone.goto(runtime["base_url"] + "/phone")
    expect(phone.locator("body")).to_have_attribute("data-ready", "true")
    phone.locator("#client-number").fill(LIVE_CLIENT)
    phone.get_by_role("button", name="Use this number").click()
    expect(phone.get_by_text("Number set.")).to_be_visible()
    phone.locator("#sms-body").fill(body)
    phone.get_by_role("button", name="Send", exact=True).click()
    return phone


def test_a_text_from_the_phone_shows_in_the_open_inbox_within_two_seconds(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    # Given a signed-in inbox whose live socket is up (the server said "ready")
    frames: list[str] = []
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/conversations" in r.url else None)

    def watch(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", watch)
    sign_in(page, runtime)
    expect(page.locator("#refresh-list")).to_have_count(0)
    page.wait_for_function("() => true")
    deadline = time.monotonic() + 10
    while not any('"ready"' in f for f in frames) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert any('"ready"' in f for f in frames), "the live socket never came up"
    page.evaluate("window.__notReloaded = true")

    # When the phone simulator texts a number the inbox has not seen
    rows = page.locator("#conversation-list button")
    listed = rows.count()
    started = time.monotonic()
    _phone_sends(context, runtime, FIRST)
    expect(rows).to_have_count(listed + 1, timeout=ARRIVAL_LIMIT_MS)
    row = rows.first  # newest activity first
    first_ms = (time.monotonic() - started) * 1000

    # And, with that thread open, the phone texts again
    row.click()
    expect(page.locator("#messages .message-body", has_text=FIRST)).to_be_visible()
    started = time.monotonic()
    text_from_phone(runtime, LIVE_CLIENT, SECOND)
    # Then the new text shows in the thread within 2 s, without a reload
    expect(page.locator("#messages .message-body", has_text=SECOND)).to_be_visible(
        timeout=ARRIVAL_LIMIT_MS
    )
    second_ms = (time.monotonic() - started) * 1000
    assert page.evaluate("window.__notReloaded") is True
    assert first_ms < ARRIVAL_LIMIT_MS + 1500  # includes the phone page's own set-up
    assert second_ms < ARRIVAL_LIMIT_MS

    # And the socket carried ids only, and the inbox asked only for what changed
    changed = [json.loads(f) for f in frames if '"changed"' in f]
    assert changed and all(set(f) == {"type", "conversation_id"} for f in changed)
    assert not any(LIVE_CLIENT[-4:] in f or FIRST in f or SECOND in f for f in frames)
    assert any("since=" in url for url in requests)
    assert any("after=" in url for url in requests)
