"""Web Push in Chromium: a push delivered to the inbox's service worker through the
DevTools protocol shows "New message in Quietline" and nothing from the payload, even when
the payload carries client details. Synthetic data only."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.helpers import sign_in

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

SNEAKY_PAYLOAD = {"title": "Sam Demo", "body": "+12065550131: are we still on for today?"}


def test_a_push_shows_the_fixed_notice_and_nothing_it_carries(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    # Given a signed-in inbox whose service worker is registered, notifications allowed
    base = runtime["base_url"]
    context.grant_permissions(["notifications"], origin=base)
    sign_in(page, runtime)
    expect(page.locator("#push-enable")).to_be_visible()
    cdp = context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(
            r["registrationId"] for r in event["registrations"] if not r.get("isDeleted")
        ),
    )
    cdp.send("ServiceWorker.enable")
    # The app's own registration (through its Trusted Types policy, as the CSP requires).
    page.evaluate("async () => { await (await import('/app/pwa.js')).registerWorker(); }")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert registrations, "the service worker did not register"

    # When a push arrives whose payload (wrongly) carries a client's name, number and text
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": base, "registrationId": registrations[-1], "data": json.dumps(SNEAKY_PAYLOAD)},
    )

    # Then the device shows the fixed notice, none of the payload
    shown: list[dict[str, str]] = []
    deadline = time.monotonic() + 10
    while not shown and time.monotonic() < deadline:
        shown = page.evaluate(
            "async () => (await (await navigator.serviceWorker.ready).getNotifications())"
            ".map((n) => ({ title: n.title, body: n.body }))"
        )
        page.wait_for_timeout(50)
    assert shown == [{"title": "New message in Quietline", "body": "Open Quietline to read it."}]
