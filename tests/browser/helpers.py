"""Helpers the browser tests share: Chromium's path and flags, signing in, HTTP calls to
the local runtime, inbound texts, Cognito calls and screenshots."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.config import REPO_ROOT
from local.identity import totp

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

# Debian's package, never a browser downloaded by Playwright.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


def user(runtime: dict[str, Any], role: str) -> dict[str, str]:
    found: dict[str, str] = next(u for u in runtime["users"] if u["role"] == role)
    return found


def sign_in(page: Page, runtime: dict[str, Any], role: str = "admin") -> dict[str, str]:
    """Password, then the authenticator code, through the real sign-in screens."""
    from playwright.sync_api import expect  # conftest skips the browser tests without it

    account = user(runtime, role)
    page.goto(runtime["base_url"] + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    page.locator("#email").fill(account["email"])
    page.locator("#password").fill(account["password"])
    page.get_by_role("button", name="Continue").click()
    page.locator("#mfa-code").fill(totp(account["totp_secret"]))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    return account


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} | (headers or {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def text_from_phone(runtime: dict[str, Any], client: str, body: str) -> None:
    """An inbound SMS through the same path End User Messaging uses."""
    status, _ = http(
        "POST",
        runtime["aws_sms_inbound_url"],
        {
            "originationNumber": client,
            "destinationNumber": runtime["business_number"],
            "messageBody": body,
            "inboundMessageId": f"web-{time.monotonic_ns()}",
        },
    )
    assert status == 202


def cognito(runtime: dict[str, Any], operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """A Cognito user-pool call as the browser makes it (unsigned, X-Amz-Target)."""
    status, answer = http(
        "POST",
        runtime["aws_endpoint_url"] + "/",
        body,
        {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
        },
    )
    assert status == 200, answer
    result: dict[str, Any] = answer
    return result


def id_token(runtime: dict[str, Any], role: str) -> str:
    """Sign a demo user in outside the browser (password, then the TOTP code)."""
    account = user(runtime, role)
    client_id = runtime["user_pool_client_id"]
    first = cognito(
        runtime,
        "InitiateAuth",
        {
            "ClientId": client_id,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": account["email"], "PASSWORD": account["password"]},
        },
    )
    done = cognito(
        runtime,
        "RespondToAuthChallenge",
        {
            "ClientId": client_id,
            "ChallengeName": first["ChallengeName"],
            "Session": first["Session"],
            "ChallengeResponses": {
                "USERNAME": account["email"],
                "SOFTWARE_TOKEN_MFA_CODE": totp(account["totp_secret"]),
            },
        },
    )
    token: str = done["AuthenticationResult"]["IdToken"]
    return token


def screenshot(page: Page, name: str) -> None:
    """Only with QUIETLINE_SCREENSHOTS=1: normal runs leave the committed images alone."""
    if os.environ.get("QUIETLINE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def ready(page: Page) -> None:
    """Wait until the page's script has bound its controls (body[data-ready])."""
    from playwright.sync_api import expect  # conftest skips the browser tests without it

    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def phone_page(context: BrowserContext, runtime: dict[str, Any], number: str) -> Page:
    """The phone simulator in a new tab, switched to `number` (a fictional 555-01xx client)."""
    from playwright.sync_api import expect

    phone = context.new_page()
    phone.goto(runtime["base_url"] + "/phone")
    ready(phone)
    phone.get_by_label("Client phone number").fill(number)
    phone.get_by_role("button", name="Use this number").click()
    expect(phone.locator("#phone-status")).to_have_text("Number set.")
    return phone


def open_conversation_with(page: Page, body: str) -> None:
    """Open the conversation whose thread shows `body` (newest activity is listed first).

    Which thread holds the text is decided by the page's own answer for that thread, so a
    previous thread still on screen cannot be mistaken for it."""
    import pytest
    from playwright.sync_api import expect

    buttons = page.locator("#conversation-list button")
    expect(buttons.first).to_be_visible()
    for button in buttons.all():
        with page.expect_response(
            lambda response: response.request.method == "GET" and "/messages?" in response.url
        ) as thread:
            button.click()
        if any(message["body"] == body for message in thread.value.json()["items"]):
            expect(page.locator("#messages .message-body", has_text=body)).to_be_visible()
            return
    pytest.fail("no conversation shows the text that was sent")
