"""axe-core (pinned in package.json; injected by this test only, never served) on every
screen, on a desktop and on a 390 px phone: no serious or critical violation (#15).

The scan's contexts bypass the page's CSP so the test can add axe's script; the policy
itself is tested in test_static.py. Synthetic data only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from infra.config import REPO_ROOT
from tests.browser.helpers import sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 860}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
# A made-up token: the secure page's first screen ("Text me a code") needs no real link.
SECURE_TOKEN = "AxeScanAxeScanAxeScanAxeScanAxeScan01"

_SCAN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => {
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ");
      return `${v.id} (${v.impact}): ${where}`;
    });
}"""


@pytest.fixture(params=list(VIEWPORTS))
def scan_context(request: pytest.FixtureRequest, chromium: Browser) -> Iterator[BrowserContext]:
    if not AXE.is_file():
        pytest.skip("axe-core is not installed (npm ci)")
    context = chromium.new_context(bypass_csp=True, locale="en-US", **VIEWPORTS[request.param])
    context.set_default_timeout(10_000)
    yield context
    context.close()


def _violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found: list[str] = page.evaluate(_SCAN)
    return found


def _narrow(page: Page) -> bool:
    return bool(page.evaluate("window.matchMedia('(max-width: 900px)').matches"))


def _admin_tab(name: str, ready: str) -> Callable[[Page], None]:
    def go(page: Page) -> None:
        page.get_by_role("button", name="Admin").click()
        page.get_by_role("button", name=name, exact=True).click()
        expect(page.locator(ready).first).to_be_visible()

    return go


def _to_list(page: Page) -> None:
    """The inbox's conversation list (on a phone, back from an open thread)."""
    page.get_by_role("button", name="Inbox").click()
    for back in ("#back-from-client", "#back-to-list"):
        if _narrow(page) and page.locator(back).is_visible():
            page.locator(back).click()


def _open_thread(page: Page) -> None:
    _to_list(page)
    page.locator("#conversation-list .conversation").first.click()
    expect(page.locator("#messages .message").first).to_be_visible()


def _client_details(page: Page) -> None:
    _open_thread(page)
    if _narrow(page):
        page.get_by_role("button", name="Client details").click()
    expect(page.locator("#contact-details")).to_be_visible()


def _new_contact_with_an_error(page: Page) -> None:
    _to_list(page)
    page.get_by_role("button", name="New contact").click()
    page.get_by_role("button", name="Create").click()  # empty: the error next to the field
    expect(page.locator("#new-phone-field-error")).to_be_visible()


SIGNED_IN_SCREENS: dict[str, Callable[[Page], None]] = {
    "conversation list": lambda page: expect(page.locator(".conversation").first).to_be_visible(),
    "thread": _open_thread,
    "client details": _client_details,
    "new contact with an error": _new_contact_with_an_error,
    "admin: staff": _admin_tab("Staff", "#users-body tr"),
    "admin: templates": _admin_tab("Templates", "#template-form"),
    "admin: settings": _admin_tab("Settings", "#settings-form[data-loaded=true]"),
    "admin: voice settings": _admin_tab("Calls", "#voice-routes > *"),
    "admin: after-hours care": _admin_tab("After-hours care", "#care-form[data-loaded=true]"),
    "admin: reminders": _admin_tab("Reminders", "#reminders-form[data-loaded=true]"),
    "admin: audit export": _admin_tab("Audit export", "#audit-form"),
}


def test_no_screen_has_a_serious_or_critical_axe_violation(
    scan_context: BrowserContext, runtime: dict[str, Any]
) -> None:
    page = scan_context.new_page()
    found: dict[str, list[str]] = {}

    # The screens before sign-in: sign-in, the phone simulator, the client's secure page
    base = runtime["base_url"]
    for screen, path in (
        ("sign-in", "/"),
        ("phone simulator", "/phone"),
        ("cell simulator", "/cell"),
        ("secure page", f"/s#{SECURE_TOKEN}"),
    ):
        page.goto(base + path)
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        found[screen] = _violations(page)

    # And every screen of the signed-in inbox and admin pages
    sign_in(page, runtime, "admin")
    for screen, reach in SIGNED_IN_SCREENS.items():
        reach(page)
        found[screen] = _violations(page)

    assert {screen: v for screen, v in found.items() if v} == {}
