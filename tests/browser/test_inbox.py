"""The staff inbox, the phone simulator and the client's secure page, end to end in
Chromium against the local runtime: sign-in with MFA, a thread, consent, replies that
reach the phone, secure links, lockout, idle logoff, 401 handling and the admin pages.

Synthetic data only: 555-01xx numbers and made-up text.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from local.identity import totp
from tests.browser.checks import assert_contrast, assert_nothing_kept
from tests.browser.helpers import (
    http,
    id_token,
    screenshot,
    sign_in,
    text_from_phone,
    user,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

FIRST_CLIENT = "+12065550111"
SECURE_CLIENT = "+12065550112"
IDLE_CLIENT = "+12065550113"
NEW_CLIENT = "+12065550114"
HELLO = "Hi, this is a demo text from the phone simulator."
REPLY = "Thanks for writing. See you at our usual time."
SECURE_BODY = "Here is the worksheet we talked about: breathing exercise, page two."
CLIENT_REPLY = "Got it, thank you. I will try the exercise."


def _open_conversation_with(page: Page, body: str) -> None:
    """Open the conversation whose thread shows `body` (newest activity is listed first)."""
    page.locator("#conversation-list button").first.wait_for()
    for button in page.locator("#conversation-list button").all():
        button.click()
        page.locator("#messages li").first.wait_for()
        if page.locator("#messages .message-body", has_text=body).count():
            return
    pytest.fail("no conversation shows the text that was sent")


def _phone(context: BrowserContext, runtime: dict[str, Any], number: str) -> Page:
    """The phone simulator, switched to `number`."""
    phone = context.new_page()
    phone.goto(runtime["base_url"] + "/phone")
    phone.wait_for_selector("body[data-ready=true]")
    phone.locator("#client-number").fill(number)
    phone.get_by_role("button", name="Use this number").click()
    phone.get_by_text("Number set.").wait_for()
    return phone


def _code_on(phone: Page, after: int = 0) -> str:
    """The newest one-time code the phone received (from bubble `after` on)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        texts = phone.locator("#bubbles li").all_text_contents()[after:]
        codes = [m.group(1) for t in texts if (m := re.search(r"\bis (\d{6})\b", t))]
        if codes:
            return codes[-1]
        time.sleep(0.2)
    pytest.fail("no code reached the phone")


def test_sign_in_with_mfa_read_a_thread_capture_consent_and_reply_to_the_phone(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    text_from_phone(runtime, FIRST_CLIENT, HELLO)
    admin = user(runtime, "admin")

    # The first screen: sign-in, and the local demo panel for newcomers.
    page.goto(runtime["base_url"] + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_role("heading", name="Local demo").wait_for()
    assert page.get_by_role("link", name="phone simulator").get_attribute("href") == "/phone"
    page.get_by_role("button", name="Use the demo admin").click()
    page.get_by_text("Current code for").wait_for()
    assert_contrast(page)
    screenshot(page, "sign-in")

    # Keyboard only, in focus order: skip link, email, password; Enter submits each step.
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip-link"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    page.keyboard.type(admin["email"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(admin["password"])
    page.keyboard.press("Enter")
    page.locator("#mfa-code").wait_for()
    assert page.evaluate("document.activeElement.id") == "mfa-code"
    page.keyboard.type(totp(admin["totp_secret"]))
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Conversations").wait_for()

    # The new conversation is listed with an unread badge; opening it reads it.
    first = page.locator("#conversation-list button").first
    first.locator(".badge").wait_for()
    assert "unread" in first.locator(".badge").inner_text()
    _open_conversation_with(page, HELLO)
    page.locator("#conversation-list button[aria-current] .badge").wait_for(state="detached")
    assert page.evaluate("document.activeElement.id") == "thread-title"

    # The live segment counter follows what is typed.
    page.locator("#compose-body").fill("Emoji switch the encoding 😀")
    assert "UCS-2" in page.locator("#segment-counter").inner_text()
    page.locator("#compose-body").fill("a" * 161)
    assert "2 segments · GSM-7" in page.locator("#segment-counter").inner_text()

    # Without plain-SMS consent the server refuses a plain text: its words are shown.
    page.locator("#compose-body").fill(REPLY)
    page.locator("#compose input[name=mode][value=plain]").check()
    page.get_by_role("button", name="Send", exact=True).click()
    error = page.locator("#compose-error")
    error.wait_for()
    assert "consent" in error.inner_text()

    # Capture consent in the client panel, then the same reply goes out.
    assert page.locator("#contact-phone").inner_text() == FIRST_CLIENT
    page.locator("#contact-name-input").fill("Sam Demo")
    page.locator("#contact-form input[name=consent][value=plain_sms]").check()
    page.locator("#consent-confirm").check()
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("Saved.").wait_for()
    assert page.locator("#thread-title").inner_text() == "Sam Demo"
    assert page.locator("#compose input[name=mode][value=plain]").is_checked()
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Message queued.").wait_for()
    page.locator("#messages .message.outbound", has_text=REPLY).wait_for()
    assert_contrast(page)
    screenshot(page, "inbox")
    assert_nothing_kept(page, FIRST_CLIENT, "Sam Demo", HELLO, REPLY)
    assert page.url == runtime["base_url"] + "/"

    # The client's phone shows the reply.
    phone = _phone(context, runtime, FIRST_CLIENT)
    phone.locator("#bubbles .from-practice", has_text=REPLY).wait_for()
    assert_nothing_kept(phone, FIRST_CLIENT, REPLY)

    # And the client's next text arrives in the open thread.
    phone.locator("#sms-body").fill("Perfect, thanks!")
    phone.get_by_role("button", name="Send", exact=True).click()
    phone.locator("#bubbles .from-client", has_text="Perfect, thanks!").wait_for()
    assert_contrast(phone)
    screenshot(phone, "phone")
    page.bring_to_front()
    page.get_by_role("button", name="Refresh").click()
    page.locator("#messages .message.inbound", has_text="Perfect, thanks!").wait_for()


def test_a_secure_link_opens_with_a_texted_code_and_the_clients_reply_reaches_the_inbox(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    text_from_phone(runtime, SECURE_CLIENT, "Could you send me the worksheet?")
    sign_in(page, runtime)
    _open_conversation_with(page, "Could you send me the worksheet?")
    page.locator("#compose input[name=mode][value=secure_link]").check()
    page.locator("#compose-body").fill(SECURE_BODY)
    assert "secure link" in page.locator("#segment-counter").inner_text()
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Secure link queued.").wait_for()

    phone = _phone(context, runtime, SECURE_CLIENT)
    link = phone.locator("#bubbles a[href*='/s#']").last
    link.wait_for()
    assert SECURE_BODY not in phone.locator("#bubbles").inner_text()  # only the link is texted
    # The token is in the fragment: never in a request line, so in no server or CDN log.
    href = link.get_attribute("href") or ""
    assert re.fullmatch(re.escape(runtime["base_url"]) + r"/s#[A-Za-z0-9_-]{32}", href)
    with context.expect_page() as opened:
        link.click()
    secure = opened.value
    secure.wait_for_selector("body[data-ready=true]")
    # ...and the page takes it out of the address bar and the history at once.
    assert secure.url == runtime["base_url"] + "/s"

    seen = phone.locator("#bubbles li").count()
    secure.get_by_role("button", name="Text me a code").click()
    secure.locator("#code").fill(_code_on(phone, after=seen))
    secure.get_by_role("button", name="Open the message").click()
    secure.locator("#message-body", has_text=SECURE_BODY).wait_for()
    assert_contrast(secure)
    screenshot(secure, "secure")
    secure.locator("#reply-body").fill(CLIENT_REPLY)
    secure.get_by_role("button", name="Send reply").click()
    secure.get_by_text("Reply sent.").wait_for()
    assert_nothing_kept(secure, SECURE_CLIENT, SECURE_BODY, CLIENT_REPLY)
    secure.get_by_role("button", name="I'm done").click()
    assert secure.locator("#message-body").inner_text() == ""

    page.bring_to_front()
    page.get_by_role("button", name="Refresh").click()
    page.locator("#messages .message.inbound", has_text=CLIENT_REPLY).wait_for()


def test_wrong_codes_lock_a_secure_link(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    text_from_phone(runtime, SECURE_CLIENT, "Is there anything new for me?")
    sign_in(page, runtime)
    _open_conversation_with(page, "Is there anything new for me?")
    # Links texted to the same client by earlier tests: the new one comes after them.
    query = urllib.parse.urlencode({"to": SECURE_CLIENT})
    _, texts = http("GET", f"{runtime['outbox_url']}?{query}")
    before = sum("/s#" in text["body"] for text in texts)
    page.locator("#compose input[name=mode][value=secure_link]").check()
    page.locator("#compose-body").fill("A second demo secure message.")
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_text("Secure link queued.").wait_for()

    phone = _phone(context, runtime, SECURE_CLIENT)
    links = phone.locator("#bubbles a[href*='/s#']")
    phone.wait_for_function(
        "(before) => document.querySelectorAll('#bubbles a').length > before", arg=before
    )
    secure = context.new_page()
    href = links.last.get_attribute("href") or ""
    secure.goto(href)
    seen = phone.locator("#bubbles li").count()
    secure.get_by_role("button", name="Text me a code").click()
    right = _code_on(phone, after=seen)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    error = secure.locator("#secure-error")
    for left in (4, 3, 2, 1):
        secure.locator("#code").fill(wrong)
        secure.get_by_role("button", name="Open the message").click()
        secure.get_by_text(f"{left} attempt{'s' if left > 1 else ''} left").wait_for()
    secure.locator("#code").fill(wrong)
    secure.get_by_role("button", name="Open the message").click()
    secure.get_by_text("This link is locked").wait_for()
    assert error.is_visible()
    assert secure.locator("#step-code").is_hidden()

    # Even the right code no longer opens it.
    status, body = http("POST", href.replace("/s#", "/secure/") + "/verify", {"code": right})
    assert status == 423 and body == {"error": "locked"}


def test_idle_logoff_warns_then_signs_out_and_clears_the_page(
    page: Page, runtime: dict[str, Any]
) -> None:
    text_from_phone(runtime, IDLE_CLIENT, "A demo text before going idle.")
    page.clock.install()  # fake timers: 15 minutes pass in an instant
    sign_in(page, runtime)
    _open_conversation_with(page, "A demo text before going idle.")

    page.clock.fast_forward("14:01")
    warning = page.get_by_role("alertdialog")
    warning.wait_for()
    assert page.evaluate("document.activeElement.id") == "idle-stay"
    page.get_by_role("button", name="Stay signed in").click()
    warning.wait_for(state="hidden")
    page.locator("#messages li").first.wait_for()

    page.clock.fast_forward("14:01")
    warning.wait_for()
    page.clock.fast_forward("01:00")
    page.get_by_text("You were signed out after 15 minutes without activity.").wait_for()
    assert page.locator("#signin-view").is_visible()
    assert page.locator("#inbox-view").is_hidden()
    # Nothing about the client is left in the page.
    for selector in ("#conversation-list li", "#messages li"):
        assert page.locator(selector).count() == 0
    assert page.locator("#contact-phone").inner_text() == ""
    assert IDLE_CLIENT not in page.content()
    assert_nothing_kept(page, IDLE_CLIENT)


def test_a_401_from_the_api_ends_the_session(page: Page, runtime: dict[str, Any]) -> None:
    sign_in(page, runtime, role="clinician")
    # "Sign out everywhere" from another device kills this browser's token at once.
    token = id_token(runtime, "clinician")
    status, _ = http(
        "POST", runtime["api_base_url"] + "/me/sign-out", None, {"Authorization": token}
    )
    assert status == 204

    page.get_by_role("button", name="Refresh").click()

    page.get_by_text("Your session ended. Please sign in again.").wait_for()
    assert page.locator("#inbox-view").is_hidden()
    assert page.locator("#conversation-list li").count() == 0
    assert_nothing_kept(page)


def test_first_sign_in_sets_a_password_and_enrolls_an_authenticator(
    page: Page, runtime: dict[str, Any]
) -> None:
    email = "new.clinician@harbor.quietline.local"
    temporary, chosen = "Temp-Passw0rd!demo", "Chosen-Passw0rd!demo"
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=runtime["aws_endpoint_url"],
        region_name=runtime["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    cognito.admin_create_user(
        UserPoolId=runtime["user_pool_id"],
        Username=email,
        TemporaryPassword=temporary,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "custom:tenant_id", "Value": runtime["tenant_id"]},
            {"Name": "custom:role", "Value": "clinician"},
        ],
    )

    page.goto(runtime["base_url"] + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.locator("#email").fill(email)
    page.locator("#password").fill(temporary)
    page.get_by_role("button", name="Continue").click()
    page.locator("#new-password").fill(chosen)
    page.locator("#new-password-again").fill(chosen)
    page.get_by_role("button", name="Set password").click()
    page.get_by_role("heading", name="Set up your authenticator app").wait_for()
    secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
    assert secret  # moto hands out a fixed secret; Cognito a 32-character one
    page.locator("#mfa-setup-code").fill(totp(secret))
    page.get_by_role("button", name="Finish setup").click()

    page.get_by_role("heading", name="Conversations").wait_for()
    assert page.locator("#account-label").inner_text() == f"{email} (clinician)"
    assert page.locator("#nav-admin").is_hidden()  # clinicians get no admin pages
    assert_nothing_kept(page)


def test_admin_pages_templates_settings_audit_new_contact_and_wipe(
    page: Page, runtime: dict[str, Any]
) -> None:
    sign_in(page, runtime)
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("heading", name="Administration").wait_for()
    page.locator("#users-body td", has_text=user(runtime, "clinician")["email"]).wait_for()
    assert_contrast(page)

    page.get_by_role("button", name="Templates").click()
    page.locator("#template-name").fill("Reminder")
    page.locator("#template-body").fill("A reminder of your appointment tomorrow at 10.")
    page.get_by_role("button", name="Add template").click()
    page.get_by_text("Template added.").wait_for()
    page.locator("#templates-list", has_text="Reminder").wait_for()

    page.get_by_role("button", name="Settings").click()
    page.locator("#settings-form[data-loaded]").wait_for()
    page.locator("#help-reply").fill("Harbor Counseling demo: reply STOP to opt out.")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    page.get_by_role("button", name="Staff").click()
    page.get_by_role("button", name="Settings").click()
    page.locator("#settings-form[data-loaded]").wait_for()
    assert page.locator("#help-reply").input_value() == (
        "Harbor Counseling demo: reply STOP to opt out."
    )

    page.get_by_role("button", name="Audit export").click()
    page.get_by_role("button", name="Show events").click()
    page.locator("#audit-body tr").first.wait_for()
    assert "settings.update" in page.locator("#audit-body").inner_text()
    assert page.get_by_role("button", name="Download JSON").is_enabled()

    # A new contact with consent captured, a template inserted, then the thread wiped.
    page.get_by_role("button", name="Inbox").click()
    page.get_by_role("button", name="New contact").click()
    page.locator("#new-phone").fill(NEW_CLIENT)
    page.locator("#new-name").fill("Wipe Demo")
    page.locator("#new-contact-form input[value=plain_sms]").check()
    page.locator("#new-confirm").check()
    page.get_by_role("button", name="Create").click()
    page.get_by_role("heading", name="Wipe Demo").wait_for()
    page.locator("#template-picker").select_option(label="Reminder")
    assert page.locator("#compose-body").input_value().startswith("A reminder of your")
    assert "1 segment · GSM-7" in page.locator("#segment-counter").inner_text()

    clinician = user(runtime, "clinician")["email"]
    page.locator("#assign-to").select_option(label=clinician)
    page.get_by_role("button", name="Assign", exact=True).click()
    page.get_by_text("Assignment saved.").wait_for()
    assert page.locator("#contact-assigned").inner_text() == f"Assigned to {clinician}"

    page.get_by_role("button", name="Wipe thread…").click()
    page.get_by_role("button", name="Yes, delete it").click()
    page.get_by_text("Conversation wiped").wait_for()
    assert page.locator("#conversation-list", has_text="Wipe Demo").count() == 0
    assert_nothing_kept(page, NEW_CLIENT, "Wipe Demo")
