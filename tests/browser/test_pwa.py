"""The installable app (#15): the web app manifest and icons, and a service worker that keeps
the app shell for offline start and never caches an API answer or anything with PHI.

Synthetic data only: 555-01xx numbers and made-up text.
"""

from __future__ import annotations

import json
import re
import struct
from typing import TYPE_CHECKING, Any

import pytest

from infra.config import REPO_ROOT
from infra.web_policy import LOCAL_ONLY_ASSETS
from tests.browser.helpers import http, sign_in, text_from_phone
from tests.browser.shell import cached, shell_paths

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

PWA_CLIENT = "+12065550136"
PWA_TEXT = "Demo text for the offline check: see you Thursday."
APP = REPO_ROOT / "web" / "app"


def _imports(module: str, seen: set[str]) -> set[str]:
    """Every module `module` loads, statically or with import(), transitively."""
    if module in seen:
        return seen
    seen.add(module)
    source = (APP / module).read_text(encoding="utf-8")
    for found in re.findall(r'(?:from|import)\s*\(?\s*"\./([\w-]+\.js)"', source):
        _imports(found, seen)
    return seen


def _controlled(page: Page) -> None:
    """Wait until the service worker is active and controls the page."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def test_the_worker_caches_every_module_the_inbox_loads_and_no_local_only_script() -> None:
    # Given the inbox's module graph from main.js (the demo panel is local mode's own)
    modules = _imports("main.js", set()) - LOCAL_ONLY_ASSETS

    # Then the shell lists each of them, the page, its styles, manifest and icons, and no
    # local-only script (the demo panel, its TOTP helper) or generated config
    shell = shell_paths()
    assert {f"/app/{m}" for m in modules} <= shell
    assert {"/", "/app/style.css", "/app/manifest.json"} <= shell
    assert not {f"/app/{name}" for name in LOCAL_ONLY_ASSETS | {"config.json"}} & shell
    files = [
        REPO_ROOT / "web" / "index.html" if p == "/" else APP / p.removeprefix("/app/")
        for p in shell
    ]
    assert all(file.is_file() for file in files)


def test_the_manifest_makes_the_inbox_installable(page: Page, runtime: dict[str, Any]) -> None:
    # Given the inbox and its manifest
    status, manifest = http("GET", runtime["base_url"] + "/app/manifest.json")
    assert status == 200
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/",
        "/",
        "standalone",
    )

    # Then each PNG icon is a real PNG of the size it declares
    for icon in manifest["icons"]:
        if icon["type"] != "image/png":
            continue
        data = (APP / icon["src"].removeprefix("/app/")).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert icon["sizes"] == f"{width}x{height}"
    assert {"any", "maskable"} <= {icon["purpose"] for icon in manifest["icons"]}

    # And Chromium finds nothing in the way of installing it
    page.goto(runtime["base_url"] + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    _controlled(page)
    cdp = page.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Playwright's contexts are incognito profiles, where Chromium never offers to install.
    assert [e["errorId"] for e in errors if e["errorId"] != "in-incognito"] == []
    manifest_url = cdp.send("Page.getAppManifest")["url"]
    assert manifest_url.endswith("/app/manifest.json")


def test_after_reading_a_thread_only_the_shell_is_cached_and_it_opens_offline(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    # Given a client's text, and a clinician reading it in the installed app
    text_from_phone(runtime, PWA_CLIENT, PWA_TEXT)
    account = sign_in(page, runtime, "admin")
    _controlled(page)
    with page.expect_response(lambda r: "/messages?" in r.url) as thread:
        page.locator("#conversation-list button").first.click()
    assert thread.value.ok
    expect(page.locator("#messages")).to_be_visible()

    # When Cache Storage is listed
    entries = cached(page)

    # Then it holds exactly the shell: no API answer, no config, no query strings, and no
    # message text or number anywhere in what is kept
    base = runtime["base_url"]
    paths = {entry["url"].removeprefix(base) for entry in entries}
    assert paths == shell_paths()
    assert {entry["cache"] for entry in entries} == {"quietline-shell-v1"}
    everything = json.dumps(entries)
    kept = (PWA_TEXT, PWA_CLIENT, PWA_CLIENT[-10:], account["email"], account["totp_secret"])
    for secret in kept:
        assert secret not in everything

    # And with the network gone, the app still opens to its sign-in screen
    context.set_offline(True)
    try:
        page.reload()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.locator("#signin-error")).to_contain_text("offline")
        assert page.locator("#messages .message").count() == 0  # nothing about a client
    finally:
        context.set_offline(False)
