"""The phone-first inbox at 390 px (#15): one pane at a time, list → thread → client details
with back buttons, the compose box pinned to the bottom, 44 px touch targets; the desktop
keeps its three panes side by side. Also the inbox fixes a phone trial found: rows name the
client (or a masked number), the thread marks how each message went, national-format
numbers are accepted and form errors sit next to their field.

Synthetic data only: 555-01xx numbers and made-up text. QUIETLINE_SCREENSHOTS=1 writes the
README's phone and desktop images from local mode's demo data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.checks import assert_contrast, assert_nothing_kept
from tests.browser.helpers import screenshot, sign_in, text_from_phone

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

PHONE = {"width": 390, "height": 844}
UNNAMED_CLIENT = "+12065550137"
UNNAMED_TEXT = "Hello from a number the practice has not saved yet."
NATIONAL_CLIENT = "(206) 555-0138"
DEMO_CLIENT_NAME = "Riley"  # local/demo_seed.py's first client

# Everything a finger presses in the inbox and admin pages.
_SMALL_TARGETS = """(selector) => {
  const small = [];
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    if (!el.checkVisibility() || box.bottom <= 0) continue; // the skip link waits off screen
    const target = el.closest("label.choice") || el;
    const area = target.getBoundingClientRect();
    if (Math.max(box.height, area.height) < 44 || Math.max(box.width, area.width) < 44) {
      const size = `${Math.round(area.width)}x${Math.round(area.height)}`;
      small.push(`${el.tagName.toLowerCase()}#${el.id} ${size}`);
    }
  }
  return small;
}"""
TARGETS = "button, select, summary, input, textarea, a[href]"


@pytest.fixture
def phone_context(chromium: Browser) -> Iterator[BrowserContext]:
    context = chromium.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="en-US"
    )
    context.set_default_timeout(10_000)
    problems: list[str] = []
    context.on("weberror", lambda error: problems.append(str(error.error)[:120]))
    yield context
    context.close()
    assert problems == [], f"the pages logged errors: {problems[:3]}"


def _panes(page: Page) -> dict[str, bool]:
    return {
        name: page.locator(f".{name}-pane").is_visible() for name in ("list", "thread", "contact")
    }


def _open(page: Page, name: str) -> None:
    page.locator("#conversation-list .conversation", has_text=name).first.click()
    expect(page.locator("#messages")).to_be_visible()


def test_on_a_phone_the_inbox_goes_list_thread_client_and_back(
    phone_context: BrowserContext, runtime: dict[str, Any]
) -> None:
    page = phone_context.new_page()
    sign_in(page, runtime, "clinician")

    # Given the list, alone on the screen
    assert _panes(page) == {"list": True, "thread": False, "contact": False}
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.locator("#conversation-list .conversation").first).to_be_visible()
    screenshot(page, "phone-list")

    # When a conversation is opened: the thread alone, its heading focused, the compose box
    # pinned to the bottom of the screen
    _open(page, DEMO_CLIENT_NAME)
    assert _panes(page) == {"list": False, "thread": True, "contact": False}
    expect(page.locator("#thread-title")).to_be_focused()
    compose = page.locator("#compose").bounding_box()
    assert compose and abs(compose["y"] + compose["height"] - PHONE["height"]) <= 2
    page.evaluate("window.scrollTo(0, 0)")
    compose_top = page.locator("#compose").bounding_box()
    assert compose_top and abs(compose_top["y"] + compose_top["height"] - PHONE["height"]) <= 2
    screenshot(page, "phone-thread")

    # Then the client's details, and back twice to the list
    page.get_by_role("button", name="Client details").click()
    assert _panes(page) == {"list": False, "thread": False, "contact": True}
    expect(page.locator("#contact-title")).to_be_focused()
    expect(page.locator("#contact-phone")).to_contain_text("555")
    page.get_by_role("button", name="Back").click()
    assert _panes(page) == {"list": False, "thread": True, "contact": False}
    page.get_by_role("button", name="Conversations").click()
    assert _panes(page) == {"list": True, "thread": False, "contact": False}
    expect(page.locator(".conversation[aria-current]")).to_be_focused()
    assert_contrast(page)
    assert_nothing_kept(page, DEMO_CLIENT_NAME)


def test_on_a_phone_every_control_is_a_44px_touch_target_and_no_screen_scrolls_sideways(
    phone_context: BrowserContext, runtime: dict[str, Any]
) -> None:
    page = phone_context.new_page()
    sign_in(page, runtime, "admin")
    assert page.evaluate(_SMALL_TARGETS, TARGETS) == []
    _open(page, DEMO_CLIENT_NAME)
    assert page.evaluate(_SMALL_TARGETS, TARGETS) == []
    page.get_by_role("button", name="Client details").click()
    assert page.evaluate(_SMALL_TARGETS, TARGETS) == []
    page.get_by_role("button", name="Admin").click()
    loaded = {
        "Staff": "#users-body tr",
        "Templates": "#template-form",
        "Settings": "#settings-form[data-loaded=true]",
        "Calls": "#voice-routes > *",
        "Reminders": "#reminders-form[data-loaded=true]",
        "Audit export": "#audit-form",
    }
    for tab, ready in loaded.items():
        page.get_by_role("button", name=tab, exact=True).click()
        expect(page.locator(ready).first).to_be_visible()
        assert page.evaluate(_SMALL_TARGETS, TARGETS) == [], tab
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], tab


def test_on_a_desktop_the_three_panes_sit_side_by_side(page: Page, runtime: dict[str, Any]) -> None:
    sign_in(page, runtime, "admin")
    _open(page, DEMO_CLIENT_NAME)
    boxes = [page.locator(f".{n}-pane").bounding_box() for n in ("list", "thread", "contact")]
    assert all(boxes)
    lefts = [box["x"] for box in boxes if box]
    assert lefts == sorted(lefts) and len({round(box["y"]) for box in boxes if box}) == 1
    assert not page.get_by_role("button", name="Client details").is_visible()


def test_rows_name_the_client_or_mask_the_number_and_the_thread_says_how_each_went(
    page: Page, runtime: dict[str, Any]
) -> None:
    # Given a text from a number the practice never saved, and the demo threads
    text_from_phone(runtime, UNNAMED_CLIENT, UNNAMED_TEXT)
    sign_in(page, runtime, "admin")

    # Then its row shows the last four digits, never the whole number or an internal id
    row = page.locator("#conversation-list .conversation", has_text=UNNAMED_CLIENT[-4:])
    expect(row.locator(".conversation-name")).to_have_text(f"Client …{UNNAMED_CLIENT[-4:]}")
    expect(row.locator(".badge")).to_contain_text("unread")
    expect(page.locator("#conversation-list")).not_to_contain_text("Unnamed")
    expect(page.locator("#conversation-list")).not_to_contain_text(UNNAMED_CLIENT[-7:])

    # And a demo thread marks its plain texts and its secure link, opened or not
    _open(page, DEMO_CLIENT_NAME)
    kinds = page.locator("#messages .message.outbound .message-kind")
    expect(kinds.first).to_be_visible()
    labels = set(kinds.all_inner_texts())
    assert "Plain text" in labels or any(label.startswith("Secure link") for label in labels)
    assert labels <= {"Plain text", "One-time code", "Secure link · not opened yet"} | {
        label for label in labels if label.startswith("Secure link · opened ")
    }


def test_a_national_number_is_accepted_and_errors_sit_next_to_their_field(
    page: Page, runtime: dict[str, Any]
) -> None:
    sign_in(page, runtime, "admin")
    page.get_by_role("button", name="New contact").click()

    # Given a number the API cannot text: the error is next to the number field
    page.locator("#new-phone").fill("555-CALL-NOW")
    page.locator("#new-confirm").check()
    page.get_by_role("button", name="Create").click()
    note = page.locator("#new-phone-field-error")
    expect(note).to_contain_text("Enter a phone number")
    expect(page.locator("#new-phone")).to_have_attribute("aria-invalid", "true")
    described = page.locator("#new-phone").get_attribute("aria-describedby") or ""
    assert "new-phone-field-error" in described.split()
    expect(page.locator("#new-phone")).to_be_focused()

    # When the number is typed as people say it, in national format
    page.locator("#new-phone").fill(NATIONAL_CLIENT)
    page.get_by_role("button", name="Create").click()

    # Then the contact is created and opened; the error is gone
    expect(page.locator("#contact-phone")).to_have_text("+12065550138")
    expect(note).to_be_hidden()


def test_settings_show_the_keyword_wording_in_effect_and_pick_a_time_zone(
    page: Page, runtime: dict[str, Any]
) -> None:
    sign_in(page, runtime, "admin")
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("button", name="Settings", exact=True).click()
    expect(page.locator("#settings-form[data-loaded]")).to_be_visible()

    # Given STOP left empty: the built-in wording it falls back to is shown under it
    page.locator("#stop-reply").fill("")
    effect = page.locator("#stop-reply-effect")
    expect(effect).to_contain_text("In effect, built in:")
    expect(effect).to_contain_text("unsubscribed from Harbor Counseling texts")
    # and once the practice writes its own, that is what is in effect
    page.locator("#stop-reply").fill("You will get no more texts from us. Reply START to resume.")
    expect(effect).to_have_text("In effect: your wording above.")
    page.locator("#stop-reply").fill("")

    # And a value the API refuses is reported next to its field, not in a banner
    page.locator("#after-window").fill("99999")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#after-window-field-error")).to_be_visible()
    expect(page.locator("#after-window")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#admin-error")).to_be_hidden()
    page.locator("#after-window").fill("720")

    # When a time zone is picked from the list and saved
    zones = page.locator("#after-timezone option")
    assert zones.count() > 100
    page.locator("#after-timezone").select_option("America/Denver")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()

    # Then it is the practice's time zone when the settings are read again
    page.get_by_role("button", name="Staff", exact=True).click()
    page.get_by_role("button", name="Settings", exact=True).click()
    expect(page.locator("#settings-form[data-loaded]")).to_be_visible()
    expect(page.locator("#after-timezone")).to_have_value("America/Denver")
