"""The staff inbox, the phone simulator and the client's secure page, end to end in
Chromium against the local runtime: sign-in with MFA, a thread, consent, replies that
reach the phone, secure links, lockout, idle logoff, 401 handling and the admin pages.

Synthetic data only: 555-01xx numbers and made-up text.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from local.identity import totp
from tests.browser.checks import assert_contrast, assert_nothing_kept
from tests.browser.helpers import (
    http,
    id_token,
    open_conversation_with,
    phone_page,
    ready,
    screenshot,
    sign_in,
    text_from_phone,
    user,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

FIRST_CLIENT = "+12065550111"
SECURE_CLIENT = "+12065550112"
IDLE_CLIENT = "+12065550113"
NEW_CLIENT = "+12065550114"
HELLO = "Hi, this is a demo text from the phone simulator."
REPLY = "Thanks for writing. See you at our usual time."
SECURE_BODY = "Here is the worksheet we talked about: breathing exercise, page two."
CLIENT_REPLY = "Got it, thank you. I will try the exercise."
# The text a one-time code arrives in: "... is 123456 ...".
CODE_TEXT = re.compile(r"\bis (\d{6})\b")


def _code_on(phone: Page, after: int = 0) -> str:
    """The newest one-time code the phone received (from bubble `after` on)."""
    codes = phone.locator(f"#bubbles li:nth-child(n+{after + 1})").filter(has_text=CODE_TEXT)
    expect(codes).not_to_have_count(0, timeout=15_000)
    found = CODE_TEXT.search(codes.last.inner_text())
    assert found, "the code text changed while it was read"
    return found.group(1)


def test_sign_in_with_mfa_read_a_thread_capture_consent_and_reply_to_the_phone(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    text_from_phone(runtime, FIRST_CLIENT, HELLO)
    admin = user(runtime, "admin")

    # The first screen: sign-in, and the local demo panel for newcomers.
    page.goto(runtime["base_url"] + "/")
    ready(page)
    expect(page.get_by_role("heading", name="Local demo")).to_be_visible()
    expect(page.get_by_role("link", name="phone simulator")).to_have_attribute("href", "/phone")
    page.get_by_role("button", name="Use the demo admin").click()
    expect(page.get_by_text("Current code for")).to_be_visible()
    assert_contrast(page)
    screenshot(page, "sign-in")

    # Keyboard only, in focus order: skip link, email, password; Enter submits each step.
    page.reload()
    ready(page)
    page.keyboard.press("Tab")
    expect(page.locator("#skip-link")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#email")).to_be_focused()
    page.keyboard.type(admin["email"])
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(admin["password"])
    page.keyboard.press("Enter")
    expect(page.locator("#mfa-code")).to_be_focused()
    page.keyboard.type(totp(admin["totp_secret"]))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()

    # The new conversation is listed with an unread badge; opening it reads it.
    expect(page.locator("#conversation-list button").first.locator(".badge")).to_contain_text(
        "unread"
    )
    open_conversation_with(page, HELLO)
    expect(page.locator("#conversation-list button[aria-current] .badge")).to_have_count(0)
    expect(page.locator("#thread-title")).to_be_focused()

    # The live segment counter follows what is typed.
    counter = page.locator("#segment-counter")
    page.locator("#compose-body").fill("Emoji switch the encoding 😀")
    expect(counter).to_contain_text("UCS-2")
    page.locator("#compose-body").fill("a" * 161)
    expect(counter).to_contain_text("2 segments · GSM-7")

    # Without plain-SMS consent the server refuses a plain text: its words are shown.
    page.locator("#compose-body").fill(REPLY)
    page.locator("#compose input[name=mode][value=plain]").check()
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#compose-error")).to_contain_text("consent")

    # Capture consent in the client panel, then the same reply goes out.
    expect(page.locator("#contact-phone")).to_have_text(FIRST_CLIENT)
    page.locator("#contact-name-input").fill("Sam Demo")
    page.locator("#contact-form input[name=consent][value=plain_sms]").check()
    page.locator("#consent-confirm").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.locator("#thread-title")).to_have_text("Sam Demo")
    expect(page.locator("#compose input[name=mode][value=plain]")).to_be_checked()
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Message queued.")).to_be_visible()
    expect(page.locator("#messages .message.outbound", has_text=REPLY)).to_be_visible()
    assert_contrast(page)
    screenshot(page, "inbox")
    assert_nothing_kept(page, FIRST_CLIENT, "Sam Demo", HELLO, REPLY)
    assert page.url == runtime["base_url"] + "/"

    # The client's phone shows the reply.
    phone = phone_page(context, runtime, FIRST_CLIENT)
    expect(phone.locator("#bubbles .from-practice", has_text=REPLY)).to_be_visible()
    assert_nothing_kept(phone, FIRST_CLIENT, REPLY)

    # And the client's next text arrives in the open thread.
    phone.locator("#sms-body").fill("Perfect, thanks!")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(phone.locator("#bubbles .from-client", has_text="Perfect, thanks!")).to_be_visible()
    assert_contrast(phone)
    screenshot(phone, "phone")
    page.bring_to_front()
    # No Refresh button: the live socket brings the reply in (tests/browser/test_live_updates.py).
    expect(page.locator("#messages .message.inbound", has_text="Perfect, thanks!")).to_be_visible()


def test_a_secure_link_opens_with_a_texted_code_and_the_clients_reply_reaches_the_inbox(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    text_from_phone(runtime, SECURE_CLIENT, "Could you send me the worksheet?")
    sign_in(page, runtime)
    open_conversation_with(page, "Could you send me the worksheet?")
    page.locator("#compose input[name=mode][value=secure_link]").check()
    page.locator("#compose-body").fill(SECURE_BODY)
    expect(page.locator("#segment-counter")).to_contain_text("secure link")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Secure link queued.")).to_be_visible()

    phone = phone_page(context, runtime, SECURE_CLIENT)
    link = phone.locator("#bubbles a[href*='/s#']").last
    # Only the link is texted, never the message; the token is in the fragment: never in
    # a request line, so in no server or CDN log.
    expect(link).to_have_attribute(
        "href", re.compile("^" + re.escape(runtime["base_url"]) + r"/s#[A-Za-z0-9_-]{32}$")
    )
    expect(phone.locator("#bubbles")).not_to_contain_text(SECURE_BODY)
    with context.expect_page() as opened:
        link.click()
    secure = opened.value
    ready(secure)
    # ...and the page takes it out of the address bar and the history at once.
    assert secure.url == runtime["base_url"] + "/s"

    seen = phone.locator("#bubbles li").count()
    secure.get_by_role("button", name="Text me a code").click()
    secure.locator("#code").fill(_code_on(phone, after=seen))
    secure.get_by_role("button", name="Open the message").click()
    expect(secure.locator("#message-body")).to_contain_text(SECURE_BODY)
    assert_contrast(secure)
    screenshot(secure, "secure")
    secure.locator("#reply-body").fill(CLIENT_REPLY)
    secure.get_by_role("button", name="Send reply").click()
    expect(secure.get_by_text("Reply sent.")).to_be_visible()
    assert_nothing_kept(secure, SECURE_CLIENT, SECURE_BODY, CLIENT_REPLY)
    secure.get_by_role("button", name="I'm done").click()
    expect(secure.locator("#message-body")).to_have_text("")

    page.bring_to_front()
    expect(page.locator("#messages .message.inbound", has_text=CLIENT_REPLY)).to_be_visible()


def test_wrong_codes_lock_a_secure_link(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    text_from_phone(runtime, SECURE_CLIENT, "Is there anything new for me?")
    sign_in(page, runtime)
    open_conversation_with(page, "Is there anything new for me?")
    # Links texted to the same client by earlier tests: the new one comes after them.
    query = urllib.parse.urlencode({"to": SECURE_CLIENT})
    _, texts = http("GET", f"{runtime['outbox_url']}?{query}")
    before = sum("/s#" in text["body"] for text in texts)
    page.locator("#compose input[name=mode][value=secure_link]").check()
    page.locator("#compose-body").fill("A second demo secure message.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("Secure link queued.")).to_be_visible()

    phone = phone_page(context, runtime, SECURE_CLIENT)
    links = phone.locator("#bubbles a[href*='/s#']")
    expect(links).to_have_count(before + 1)
    secure = context.new_page()
    href = links.last.get_attribute("href") or ""
    secure.goto(href)
    seen = phone.locator("#bubbles li").count()
    secure.get_by_role("button", name="Text me a code").click()
    right = _code_on(phone, after=seen)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        secure.locator("#code").fill(wrong)
        secure.get_by_role("button", name="Open the message").click()
        expect(secure.get_by_text(f"{left} attempt{'s' if left > 1 else ''} left")).to_be_visible()
    secure.locator("#code").fill(wrong)
    secure.get_by_role("button", name="Open the message").click()
    expect(secure.get_by_text("This link is locked")).to_be_visible()
    expect(secure.locator("#secure-error")).to_be_visible()
    expect(secure.locator("#step-code")).to_be_hidden()

    # Even the right code no longer opens it.
    status, body = http("POST", href.replace("/s#", "/secure/") + "/verify", {"code": right})
    assert status == 423 and body == {"error": "locked"}


def test_idle_logoff_warns_then_signs_out_and_clears_the_page(
    page: Page, runtime: dict[str, Any]
) -> None:
    text_from_phone(runtime, IDLE_CLIENT, "A demo text before going idle.")
    page.clock.install()  # fake timers: 15 minutes pass in an instant
    sign_in(page, runtime)
    open_conversation_with(page, "A demo text before going idle.")

    page.clock.fast_forward("14:01")
    warning = page.get_by_role("alertdialog")
    expect(warning).to_be_visible()
    expect(page.locator("#idle-stay")).to_be_focused()
    page.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden()
    expect(page.locator("#messages li").first).to_be_visible()

    page.clock.fast_forward("14:01")
    expect(warning).to_be_visible()
    page.clock.fast_forward("01:00")
    expect(
        page.get_by_text("You were signed out after 15 minutes without activity.")
    ).to_be_visible()
    expect(page.locator("#signin-view")).to_be_visible()
    expect(page.locator("#inbox-view")).to_be_hidden()
    # Nothing about the client is left in the page.
    for selector in ("#conversation-list li", "#messages li"):
        expect(page.locator(selector)).to_have_count(0)
    expect(page.locator("#contact-phone")).to_have_text("")
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

    page.locator("#list-filter").select_option("unread")  # the next API call

    expect(page.get_by_text("Your session ended. Please sign in again.")).to_be_visible()
    expect(page.locator("#inbox-view")).to_be_hidden()
    expect(page.locator("#conversation-list li")).to_have_count(0)
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
    ready(page)
    page.locator("#email").fill(email)
    page.locator("#password").fill(temporary)
    page.get_by_role("button", name="Continue").click()
    page.locator("#new-password").fill(chosen)
    page.locator("#new-password-again").fill(chosen)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    # moto hands out a fixed secret, Cognito a 32-character one: base32 in groups of four.
    secret_text = page.locator("#mfa-secret")
    expect(secret_text).to_have_text(re.compile(r"^[A-Za-z2-7]{1,4}( [A-Za-z2-7]{1,4})*$"))
    page.locator("#mfa-setup-code").fill(totp(secret_text.inner_text().replace(" ", "")))
    page.get_by_role("button", name="Finish setup").click()

    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    expect(page.locator("#account-label")).to_have_text(f"{email} (clinician)")
    expect(page.locator("#nav-admin")).to_be_hidden()  # clinicians get no admin pages
    assert_nothing_kept(page)


def test_admin_pages_templates_settings_audit_new_contact_and_wipe(
    page: Page, runtime: dict[str, Any]
) -> None:
    sign_in(page, runtime)
    page.get_by_role("button", name="Admin").click()
    expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    expect(
        page.locator("#users-body td", has_text=user(runtime, "clinician")["email"])
    ).to_be_visible()
    assert_contrast(page)

    page.get_by_role("button", name="Templates").click()
    page.locator("#template-name").fill("Reminder")
    page.locator("#template-body").fill("A reminder of your appointment tomorrow at 10.")
    page.get_by_role("button", name="Add template").click()
    expect(page.get_by_text("Template added.")).to_be_visible()
    expect(page.locator("#templates-list")).to_contain_text("Reminder")

    help_reply = "Harbor Counseling demo: reply STOP to opt out."
    page.get_by_role("button", name="Settings").click()
    expect(page.locator("#settings-form[data-loaded]")).to_be_visible()
    page.locator("#help-reply").fill(help_reply)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.get_by_role("button", name="Staff").click()
    page.get_by_role("button", name="Settings").click()
    expect(page.locator("#settings-form[data-loaded]")).to_be_visible()
    expect(page.locator("#help-reply")).to_have_value(help_reply)

    page.get_by_role("button", name="Audit export").click()
    page.get_by_role("button", name="Show events").click()
    expect(page.locator("#audit-body")).to_contain_text("settings.update")
    expect(page.get_by_role("button", name="Download JSON")).to_be_enabled()

    # A new contact with consent captured, a template inserted, then the thread wiped.
    page.get_by_role("button", name="Inbox").click()
    page.get_by_role("button", name="New contact").click()
    page.locator("#new-phone").fill(NEW_CLIENT)
    page.locator("#new-name").fill("Wipe Demo")
    page.locator("#new-contact-form input[value=plain_sms]").check()
    page.locator("#new-confirm").check()
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Wipe Demo")).to_be_visible()
    page.locator("#template-picker").select_option(label="Reminder")
    expect(page.locator("#compose-body")).to_have_value(re.compile("^A reminder of your"))
    expect(page.locator("#segment-counter")).to_contain_text("1 segment · GSM-7")

    clinician = user(runtime, "clinician")["email"]
    page.locator("#assign-to").select_option(label=clinician)
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_text("Assignment saved.")).to_be_visible()
    expect(page.locator("#contact-assigned")).to_have_text(f"Assigned to {clinician}")

    page.get_by_role("button", name="Wipe thread…").click()
    page.get_by_role("button", name="Yes, delete it").click()
    expect(page.get_by_text("Conversation wiped")).to_be_visible()
    expect(page.locator("#conversation-list", has_text="Wipe Demo")).to_have_count(0)
    assert_nothing_kept(page, NEW_CLIENT, "Wipe Demo")
