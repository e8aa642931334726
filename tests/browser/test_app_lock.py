"""The app lock in Chromium: after the practice's lock delay or when the page goes to the
background, client details leave the DOM; the PIN brings them back through the API; five
wrong PINs end the session on the server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.helpers import open_conversation_with, sign_in, text_from_phone

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

LOCK_CLIENT = "+12065550171"  # its own number: other tests' threads must not match
LOCK_TEXT = "A demo text that must leave the screen when the app locks."
PIN = "480271"


def _set_pin(page: Page, pin: str) -> None:
    page.get_by_role("button", name="Set a PIN").click()
    page.locator("#new-pin").fill(pin)
    page.locator("#new-pin-again").fill(pin)
    page.get_by_role("button", name="Save PIN").click()
    expect(page.get_by_text("PIN saved.")).to_be_visible()


def _assert_locked_without_phi(page: Page) -> None:
    expect(page.get_by_role("heading", name="Quietline is locked")).to_be_visible()
    expect(page.locator("#unlock-pin")).to_be_focused()
    # Removed from the DOM, not hidden: nothing of the client is in the document at all.
    for selector in ("#conversation-list li", "#messages li"):
        expect(page.locator(selector)).to_have_count(0)
    expect(page.locator("#contact-phone")).to_have_text("")
    html = page.content()
    assert LOCK_TEXT not in html and LOCK_CLIENT not in html


def _unlock_with(page: Page, pin: str) -> None:
    page.locator("#unlock-pin").fill(pin)
    page.get_by_role("button", name="Unlock").click()


def test_idle_and_background_lock_remove_phi_and_the_pin_brings_it_back_until_five_misses(
    page: Page, runtime: dict[str, Any]
) -> None:
    text_from_phone(runtime, LOCK_CLIENT, LOCK_TEXT)
    page.clock.install()  # fake timers: the 2-minute lock delay passes in an instant
    sign_in(page, runtime, role="clinician")
    _set_pin(page, PIN)
    open_conversation_with(page, LOCK_TEXT)

    # Idle for the practice's lock delay (2 minutes by default): locked, PHI gone
    page.clock.fast_forward("02:01")
    _assert_locked_without_phi(page)

    # A wrong PIN says how many tries are left; the right one re-fetches the open thread
    _unlock_with(page, "111390")
    expect(page.locator("#unlock-error")).to_have_text("That PIN is not right. 4 attempts left.")
    _unlock_with(page, PIN)
    expect(page.locator("#lock-view")).to_be_hidden()
    expect(page.locator("#messages .message-body", has_text=LOCK_TEXT)).to_be_visible()

    # Going to the background locks at once
    page.evaluate(
        """() => {
          const set = (value) =>
            Object.defineProperty(document, "visibilityState", { value, configurable: true });
          set("hidden");
          document.dispatchEvent(new Event("visibilitychange"));
          set("visible");
        }"""
    )
    _assert_locked_without_phi(page)

    # Five wrong PINs in a row (the count restarted at the unlock): signed out everywhere
    for left in (4, 3, 2, 1):
        _unlock_with(page, "111390")
        expect(page.locator("#unlock-error")).to_contain_text(f"{left} attempts left")
    _unlock_with(page, "111390")
    expect(page.get_by_text("Your session ended. Please sign in again.")).to_be_visible()
    expect(page.locator("#lock-view")).to_be_hidden()
    expect(page.locator("#inbox-view")).to_be_hidden()
    # ... on the server too: a reload does not resume it
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.locator("#signin-view")).to_be_visible()
    assert page.context.cookies() == []


def test_without_a_pin_the_page_does_not_lock(page: Page, runtime: dict[str, Any]) -> None:
    page.clock.install()
    sign_in(page, runtime, role="admin")
    expect(page.get_by_role("button", name="Set a PIN")).to_be_visible()
    expect(page.get_by_role("button", name="Lock")).to_be_hidden()
    page.clock.fast_forward("02:01")
    expect(page.locator("#lock-view")).to_be_hidden()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()


def _tokens_seen(page: Page) -> list[str]:
    """The ID tokens the page sends: what someone at the unlocked device could copy out of
    its memory with the developer tools."""
    seen: list[str] = []

    def note(request: Any) -> None:
        token = request.headers.get("authorization")
        if token:
            seen.append(token)

    page.on("request", note)
    return seen


def _fetch_status(page: Page, path: str, token: str, method: str = "GET", body: Any = None) -> int:
    status: int = page.evaluate(
        """async ([path, token, method, body]) => {
          const init = { method, headers: { Authorization: token }, credentials: "omit" };
          if (body !== null) {
            init.headers["Content-Type"] = "application/json";
            init.body = JSON.stringify(body);
          }
          return (await fetch(path, init)).status;
        }""",
        [path, token, method, body],
    )
    return status


def test_after_the_lock_the_token_in_memory_reads_nothing_until_the_pin_unlocks(
    page: Page, runtime: dict[str, Any]
) -> None:
    # Given a clinician with a PIN, signed in, whose page has sent its ID token
    tokens = _tokens_seen(page)
    sign_in(page, runtime, role="clinician")
    _set_pin(page, PIN)
    token = tokens[-1]
    assert _fetch_status(page, "/conversations", token) == 200
    # When the page locks (the server is told)
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/me/lock")
    ) as locked:
        page.get_by_role("button", name="Lock", exact=True).click()
    assert locked.value.status == 204
    expect(page.get_by_role("heading", name="Quietline is locked")).to_be_visible()
    # Then the same token, used from the page's own context, is refused by the server
    assert _fetch_status(page, "/conversations", token) == 423
    assert _fetch_status(page, "/me/pin", token, "PUT", {"pin": "913572"}) == 423
    # ... a reload resumes the session still locked: the lock screen, no client in the page
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.get_by_role("heading", name="Quietline is locked")).to_be_visible()
    expect(page.locator("#conversation-list li")).to_have_count(0)
    # ... and after the PIN unlocks, it reads again
    _unlock_with(page, PIN)
    expect(page.locator("#lock-view")).to_be_hidden()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    assert _fetch_status(page, "/conversations", token) == 200
    _forget_pin(page)


def _forget_pin(page: Page) -> None:
    """Five wrong PINs delete the PIN (and end the session), as a user would: no PIN is left
    for the tests after this one, whose pages would lock whenever they open a second tab."""
    page.get_by_role("button", name="Lock", exact=True).click()
    for left in (4, 3, 2, 1):
        _unlock_with(page, "111390")
        expect(page.locator("#unlock-error")).to_contain_text(f"{left} attempts left")
    _unlock_with(page, "111390")
    expect(page.get_by_text("Your session ended. Please sign in again.")).to_be_visible()


def test_a_practice_that_requires_a_pin_asks_for_one_before_showing_clients(
    page: Page, runtime: dict[str, Any]
) -> None:
    # Given an admin without a PIN or passkey (the demo practice starts with the
    # requirement off), who turns the requirement on
    tokens = _tokens_seen(page)
    sign_in(page, runtime, role="admin")
    token = tokens[-1]
    body = {"require_unlock_method": True}
    assert _fetch_status(page, "/lock-settings", token, "PUT", body) == 200
    try:
        # When the page is opened again (the session resumes)
        conversations: list[str] = []
        page.on(
            "request", lambda r: conversations.append(r.url) if "/conversations" in r.url else None
        )
        page.reload()
        # Then the PIN dialog asks first, cannot be closed, and no client was fetched
        expect(page.locator("#pin-required")).to_be_visible()
        expect(page.locator("#pin-cancel")).to_be_hidden()
        expect(page.locator("#conversation-list li")).to_have_count(0)
        assert conversations == []
    finally:
        body = {"require_unlock_method": False}
        assert _fetch_status(page, "/lock-settings", tokens[-1], "PUT", body) == 200
    # And someone who cannot set one now can still leave: the dialog signs out
    page.locator("#pin-sign-out").click()
    expect(page.get_by_text("You signed out.")).to_be_visible()
    expect(page.locator("#pin-dialog")).to_be_hidden()
