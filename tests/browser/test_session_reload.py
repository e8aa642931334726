"""A reload keeps the inbox signed in while the server-side session lives, with the
refresh credential in an HttpOnly cookie no script can read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from functions.handlers.api.browser_session import COOKIE_NAME
from tests.browser.helpers import http, id_token, ready, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect


def test_a_reload_keeps_you_signed_in_and_scripts_cannot_read_the_credential(
    page: Page, runtime: dict[str, Any]
) -> None:
    account = sign_in(page, runtime, role="clinician")
    # Given a signed-in inbox: the refresh credential is a cookie scripts cannot see
    (cookie,) = page.context.cookies()
    assert cookie["name"] == COOKIE_NAME and cookie["httpOnly"] and cookie["path"] == "/session"
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    # When the page reloads
    page.reload()
    ready(page)
    # Then it is still signed in, as the same person, without the sign-in screen
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    expect(page.locator("#signin-view")).to_be_hidden()
    expect(page.locator("#account-label")).to_have_text(f"{account['email']} (clinician)")


def test_after_signing_out_a_reload_shows_the_sign_in_screen(
    page: Page, runtime: dict[str, Any]
) -> None:
    sign_in(page, runtime, role="admin")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You signed out.")).to_be_visible()
    page.reload()
    ready(page)
    expect(page.locator("#signin-view")).to_be_visible()
    expect(page.locator("#inbox-view")).to_be_hidden()
    assert page.context.cookies() == []


def test_sign_out_everywhere_from_another_device_ends_the_session_at_the_next_reload(
    page: Page, runtime: dict[str, Any]
) -> None:
    sign_in(page, runtime, role="clinician")
    # Given the clinician signs out everywhere from another device (a lost phone)
    status, _ = http(
        "POST",
        runtime["api_base_url"] + "/me/sign-out",
        None,
        {"Authorization": id_token(runtime, "clinician")},
    )
    assert status == 204
    # When this device's page reloads, it cannot resume: the sign-in screen shows
    page.reload()
    ready(page)
    expect(page.locator("#signin-view")).to_be_visible()
    expect(page.locator("#inbox-view")).to_be_hidden()
    assert page.context.cookies() == []  # the API told the browser to drop it
