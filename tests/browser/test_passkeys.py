"""Passkeys in Chromium through a DevTools-protocol virtual authenticator (platform,
user verification on): enrol from the inbox, lock, unlock with the passkey, remove it;
sign in with it instead of the password and the code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from local.identity import totp
from tests.browser.helpers import http, id_token, text_from_phone, user

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

PASSKEY_CLIENT = "+12065550132"
PASSKEY_TEXT = "A demo text behind a passkey lock."


def _sign_in_on_localhost(page: Page, runtime: dict[str, Any], role: str) -> str:
    """WebAuthn needs a domain for its relying party, not an IP: the page is opened as
    localhost (the same local server)."""
    base = runtime["base_url"].replace("127.0.0.1", "localhost")
    account = user(runtime, role)
    page.goto(base + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#email").fill(account["email"])
    page.locator("#password").fill(account["password"])
    page.get_by_role("button", name="Continue").click()
    page.locator("#mfa-code").fill(totp(account["totp_secret"]))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    return base


def _remove_every_passkey(runtime: dict[str, Any], role: str) -> None:
    """Leave no passkey behind for the other tests (a passkey turns the lock on)."""
    token = {"Authorization": id_token(runtime, role)}
    status, page = http("GET", runtime["api_base_url"] + "/me/passkeys", None, token)
    assert status == 200
    for passkey in page["items"]:
        path = f"/me/passkeys/{passkey['credential_id']}"
        http("DELETE", runtime["api_base_url"] + path, None, token)


def _platform_authenticator(page: Page) -> Any:
    """This browser's Face ID / Touch ID / Windows Hello, answered by DevTools: the
    authenticator id (remove it with WebAuthn.removeVirtualAuthenticator)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",  # a platform authenticator: Touch ID, Windows Hello
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def _enrol_from_settings(page: Page) -> None:
    page.get_by_role("button", name="Set a PIN").click()
    page.get_by_role("button", name="Add a passkey on this device").click()
    expect(page.locator("#passkey-list li")).to_have_count(1)
    page.get_by_role("button", name="Close").click()
    expect(page.get_by_text("Passkey added.")).to_be_visible()


def test_sign_in_with_a_passkey_instead_of_password_and_code(
    page: Page, runtime: dict[str, Any]
) -> None:
    cdp, authenticator = _platform_authenticator(page)
    account = user(runtime, "clinician")
    try:
        # Given a clinician who enrolled this phone's passkey, then signed out
        _sign_in_on_localhost(page, runtime, "clinician")
        _enrol_from_settings(page)
        page.locator("#sign-out").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

        # When they give their address and choose the passkey
        page.locator("#email").fill(account["email"])
        page.get_by_role("button", name="Sign in with a passkey").click()

        # Then the inbox opens: no password, no authenticator code asked for
        expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
        expect(page.locator("#mfa-code")).to_be_hidden()

        # And a device without that passkey is refused, in words, with the other way named
        page.locator("#sign-out").click()
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
        _platform_authenticator(page)
        page.locator("#email").fill(account["email"])
        page.get_by_role("button", name="Sign in with a passkey").click()
        expect(page.locator("#signin-error")).to_contain_text("sign in with your password and code")
        expect(page.get_by_role("heading", name="Conversations")).to_be_hidden()
    finally:
        _remove_every_passkey(runtime, "clinician")


def test_enrol_a_passkey_lock_and_unlock_with_it_then_remove_it(
    page: Page, runtime: dict[str, Any]
) -> None:
    text_from_phone(runtime, PASSKEY_CLIENT, PASSKEY_TEXT)
    _platform_authenticator(page)
    try:
        _sign_in_on_localhost(page, runtime, "clinician")
        # Given a passkey enrolled from the inbox
        _enrol_from_settings(page)
        page.locator("#conversation-list button").first.click()
        expect(page.locator("#messages li").first).to_be_visible()

        # When the app locks, client details leave the page; the passkey is the way back
        page.get_by_role("button", name="Lock").click()
        expect(page.get_by_role("heading", name="Quietline is locked")).to_be_visible()
        expect(page.locator("#unlock-form")).to_be_hidden()  # no PIN set: passkey only
        expect(page.locator("#messages li")).to_have_count(0)
        assert PASSKEY_TEXT not in page.content() and PASSKEY_CLIENT not in page.content()
        page.get_by_role("button", name="Unlock with a passkey").click()

        # Then the inbox is back, fetched anew
        expect(page.locator("#lock-view")).to_be_hidden()
        expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
        expect(page.locator("#conversation-list li").first).to_be_visible()

        # And removing the passkey turns the lock off again
        page.get_by_role("button", name="Set a PIN").click()
        page.get_by_role("button", name="Remove Passkey on this device").click()
        expect(page.locator("#passkey-list li")).to_have_count(0)
        page.get_by_role("button", name="Close").click()
        expect(page.get_by_role("button", name="Lock")).to_be_hidden()
    finally:
        _remove_every_passkey(runtime, "clinician")
