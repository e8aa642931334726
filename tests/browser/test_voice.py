"""Calls and voicemail in the web inbox, in Chromium against the local runtime (issue #14):
a missed call's voicemail in the thread and played from a blob: URL, click-to-call from a
thread, a clinician's own forwarding number, an admin's voice settings.

The calls are driven over local mode's simulated voice carrier routes (local/sim_voice.py).
Synthetic data only: 555-01xx numbers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from local.demo_seed import DEMO_CLIENTS
from local.sim_voice import FINISHED_PATH, INCOMING_PATH, PLACED_PATH, VOICEMAIL_PATH
from tests.browser.checks import assert_contrast, assert_nothing_kept
from tests.browser.helpers import http, id_token, phone_page, screenshot, sign_in
from tests.browser.shell import cached_paths, shell_paths

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

VOICEMAIL_CALLER = "+12065550121"
DEMO_CLIENT = DEMO_CLIENTS[0]  # Riley Demo: seeded texts and a seeded voicemail
DEMO_CELL = "+12065550142"  # the demo clinician's forwarding cell (local/demo_seed.py)


def _missed_call_with_voicemail(runtime: dict[str, Any], caller: str, seconds: int) -> list[str]:
    """A call nobody answers, then a voicemail; returns [tenant, conversation, call]."""
    base = runtime["base_url"]
    status, plan = http(
        "POST", base + INCOMING_PATH, {"from": caller, "to": runtime["business_number"]}
    )
    assert status == 200 and plan["action"] == "ring"
    status, step = http(
        "POST", base + FINISHED_PATH, {"call_id": plan["call_id"], "outcome": "no_answer"}
    )
    assert status == 200 and step["action"] == "voicemail"
    status, _ = http(
        "POST", base + VOICEMAIL_PATH, {"call_id": plan["call_id"], "seconds": seconds}
    )
    assert status == 201
    return str(plan["call_id"]).split("/")


def _open(page: Page, conversation_id: str) -> None:
    page.locator(f'#conversation-list button[data-id="{conversation_id}"]').click()


def _open_named(page: Page, name: str) -> None:
    """Open the seeded client's conversation, paging on with "Load more" when other tests'
    newer conversations have pushed it off the first page (newest activity first)."""
    buttons = page.locator("#conversation-list button")
    row = buttons.filter(has_text=name)
    expect(buttons.first).to_be_visible()
    while row.count() == 0 and page.locator("#load-more").is_visible():
        shown = buttons.count()
        page.locator("#load-more").click()
        expect(buttons).not_to_have_count(shown)
    row.click()


def test_a_missed_calls_voicemail_shows_in_the_thread_and_plays_from_a_blob_url(
    page: Page, runtime: dict[str, Any]
) -> None:
    # Given a client called, nobody answered, and they left a 3-second voicemail
    _, conversation_id, call_id = _missed_call_with_voicemail(runtime, VOICEMAIL_CALLER, 3)
    sign_in(page, runtime, "clinician")
    # When the clinician opens the thread
    _open(page, conversation_id)
    row = page.locator(f'#messages li.call[data-call-id="{call_id}"]')
    # Then the call shows with its outcome and a player
    expect(row).to_contain_text("Incoming call")
    expect(row).to_contain_text("Missed: voicemail left")
    # And playing fetches the audio with the token in a header, answered no-store
    with page.expect_response(lambda r: r.url.endswith("/voicemail")) as answer:
        row.get_by_role("button", name="Play voicemail (0:03)").click()
    response = answer.value
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.request.headers["authorization"]
    assert "?" not in response.url
    # And the audio element plays it from a blob: URL (the decoded length is the message's)
    audio = row.locator("audio.voicemail-audio")
    expect(audio).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function(
        """() => { const a = document.querySelector('audio.voicemail-audio');
                   return !a || (a.readyState >= 1 && Math.abs(a.duration - 3) < 0.25); }"""
    )
    # And once played the URL is revoked and the player gone; nothing was cached or kept
    expect(audio).to_have_count(0, timeout=15_000)
    # (the service worker keeps only the app shell: no answer of the API is ever cached)
    assert cached_paths(page) <= shell_paths()
    assert_nothing_kept(page, VOICEMAIL_CALLER)


def test_click_to_call_from_a_thread_rings_the_clinician_then_the_client(
    page: Page, runtime: dict[str, Any]
) -> None:
    # Given the clinician (forwarding cell set by the demo seed) in a client's thread
    sign_in(page, runtime, "clinician")
    _open_named(page, DEMO_CLIENT.display_name)
    expect(page.locator("#call-help")).to_contain_text("We'll ring your phone first")
    expect(page.locator("#messages li.call", has_text="Missed: voicemail left")).to_be_visible()
    # When they press Call
    page.get_by_role("button", name="Call", exact=True).click()
    # Then the page says what happens next, and the thread shows the outgoing call
    expect(page.locator("#call-status")).to_contain_text("Answer it and press 1")
    expect(
        page.locator("#messages li.call.outbound", has_text="Outgoing call by You")
    ).to_contain_text("Ringing")
    # And the simulated carrier placed the clinician's leg, then the client's, both
    # under the business number
    status, placed = http("GET", runtime["base_url"] + PLACED_PATH)
    assert status == 200
    business = runtime["business_number"]
    assert placed[-1]["legs"] == [
        {"to": DEMO_CELL, "caller_id": business, "role": "clinician"},
        {"to": DEMO_CLIENT.phone_number, "caller_id": business, "role": "client"},
    ]
    assert_contrast(page)
    assert_nothing_kept(page, DEMO_CLIENT.phone_number, DEMO_CLIENT.display_name)
    screenshot(page, "voice")


def test_a_clinician_sets_their_forwarding_number_in_national_format(
    page: Page, runtime: dict[str, Any]
) -> None:
    # Given a signed-in clinician with the "Your phone for calls" panel open
    sign_in(page, runtime, "clinician")
    page.locator("#my-phone summary").click()
    number = page.get_by_label("Your cell phone number")
    # When they enter something that is not a number
    number.fill("12")
    page.get_by_role("button", name="Save number").click()
    # Then the error is next to the field
    expect(page.locator("#forwarding-error")).to_contain_text("Check the number")
    # When they enter their cell the way they write it
    number.fill("(206) 555-0142")
    page.get_by_role("button", name="Save number").click()
    # Then it is saved, shown only by its last two digits, and the field is emptied
    expect(page.locator("#forwarding-status")).to_have_text(
        "Saved. Calls ring your phone ending in 42."
    )
    expect(page.locator("#forwarding-error")).to_be_hidden()
    expect(number).to_have_value("")


def test_an_admin_changes_the_voice_settings_with_errors_next_to_their_fields(
    page: Page, runtime: dict[str, Any]
) -> None:
    # Given the admin on the Calls tab, loaded with the seeded routing
    sign_in(page, runtime, "admin")
    page.locator("#nav-admin").click()
    page.locator('.tab[data-tab="voice"]').click()
    route = page.locator("#voice-routes .voice-route").first
    expect(route.locator(".route-number")).to_have_value(runtime["business_number"])
    expect(page.get_by_label("Take calls on the practice's numbers")).to_be_checked()
    # When they ask for a 3-second ring
    route.get_by_label("Ring each for (seconds, 5 to 60)").fill("3")
    page.get_by_role("button", name="Save call settings").click()
    # Then the error is shown beside that field
    expect(route.locator('.route-error[data-field="ring_seconds"]')).to_be_visible()
    # When they ring everyone together for 25 s, word the greeting, turn text-back on
    route.get_by_label("Ring each for (seconds, 5 to 60)").fill("25")
    route.get_by_label("How").select_option("simultaneous")
    page.get_by_label("Voicemail greeting").fill("You have reached Harbor Counseling.")
    page.get_by_label("Text a caller back after a missed call").check()
    page.get_by_role("button", name="Save call settings").click()
    # Then they are saved, as the API reads them back
    expect(page.locator("#admin-status")).to_have_text("Call settings saved.")
    expect(route.locator('.route-error[data-field="ring_seconds"]')).to_be_hidden()
    status, saved = http(
        "GET",
        runtime["base_url"] + "/voice-settings",
        headers={"Authorization": id_token(runtime, "admin")},
    )
    assert status == 200
    assert saved["routes"][0]["ring_seconds"] == 25
    assert saved["routes"][0]["strategy"] == "simultaneous"
    assert saved["greeting_text"] == "You have reached Harbor Counseling."
    assert saved["missed_call_text_enabled"] is True
    assert_contrast(page)


# --- the whole flow on the simulator pages: /phone (the client), /cell (the clinician) ---

SIM_VOICEMAIL_CALLER = "+12065550123"
SIM_ANSWERED_CALLER = "+12065550124"


def _cell(context: BrowserContext, runtime: dict[str, Any]) -> Page:
    """The cell simulator as the demo clinician's forwarding cell (its default number)."""
    cell = context.new_page()
    cell.goto(runtime["base_url"] + "/cell")
    expect(cell.locator("body")).to_have_attribute("data-ready", "true")
    return cell


def _call_practice(phone: Page) -> str:
    """Press "Call the practice"; returns the carrier's call id once it rings."""
    phone.get_by_role("button", name="Call the practice").click()
    expect(phone.locator("#call-state")).to_have_text("Ringing…")
    call_id = phone.locator("#call-panel").get_attribute("data-call-id")
    assert call_id and call_id.count("/") == 2
    return call_id


def _thread_call(page: Page, call_id: str) -> Locator:
    """Open the call's thread in the inbox; its call row."""
    _, conversation_id, call_ulid = call_id.split("/")
    _open(page, conversation_id)
    return page.locator(f'#messages li.call[data-call-id="{call_ulid}"]')


def test_the_phone_calls_nobody_answers_and_its_tone_voicemail_plays_in_the_inbox(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    # Given the phone simulator as a client, and the clinician's cell page open
    phone = phone_page(context, runtime, SIM_VOICEMAIL_CALLER)
    cell = _cell(context, runtime)
    # When the client calls the practice, the cell rings, and the client gives up waiting
    call_id = _call_practice(phone)
    expect(cell.locator(f'li.cell-call[data-call-id="{call_id}"]')).to_contain_text(
        "Press 1 to accept"
    )
    phone.get_by_role("button", name="Leave a voicemail").click()
    # Then the phone hears the greeting, the cell stops ringing, and a tone is recorded
    expect(phone.locator("#call-greeting")).to_be_visible()
    expect(phone.locator("#call-state")).to_have_text("Leave your message after the tone.")
    expect(cell.locator(f'li.cell-call[data-call-id="{call_id}"]')).to_have_count(0)
    phone.get_by_role("button", name="Record a tone message").click()
    expect(phone.locator("#call-state")).to_contain_text("Message left.")
    # And the clinician's inbox shows the missed call with its voicemail, which plays
    sign_in(page, runtime, "clinician")
    row = _thread_call(page, call_id)
    expect(row).to_contain_text("Incoming call")
    expect(row).to_contain_text("Missed: voicemail left")
    row.get_by_role("button", name="Play voicemail (0:03)").click()
    expect(row.locator("audio.voicemail-audio")).to_have_attribute("src", re.compile(r"^blob:"))
    assert_nothing_kept(page, SIM_VOICEMAIL_CALLER)


def test_the_phone_calls_and_the_cell_accepts_the_inbox_shows_who_answered(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    # Given the phone and the cell pages
    phone = phone_page(context, runtime, SIM_ANSWERED_CALLER)
    cell = _cell(context, runtime)
    # When the client calls and the clinician accepts the screen on their cell
    call_id = _call_practice(phone)
    ringing = cell.locator(f'li.cell-call[data-call-id="{call_id}"]')
    expect(ringing).to_contain_text(f"Incoming call from {runtime['business_number']}")
    ringing.get_by_role("button", name="Accept (press 1)").click()
    # Then both phones are connected; the client hangs up after a moment
    expect(phone.locator("#call-state")).to_contain_text("Connected")
    expect(ringing).to_contain_text("Connected")
    phone.wait_for_timeout(1100)
    phone.get_by_role("button", name="Hang up").click()
    expect(phone.locator("#call-state")).to_have_text("Call ended.")
    expect(ringing).to_contain_text("Call ended.")
    # And the inbox's call log shows the call answered by the clinician, with its length
    sign_in(page, runtime, "clinician")
    row = _thread_call(page, call_id)
    expect(row).to_contain_text(re.compile(r"Answered by You · 0:0[1-9]"))
    assert_nothing_kept(page, SIM_ANSWERED_CALLER)


def test_click_to_call_rings_the_cell_then_the_phone_which_answers(
    context: BrowserContext, page: Page, runtime: dict[str, Any]
) -> None:
    # Given the clinician in a client's thread, the client's phone and the clinician's cell
    sign_in(page, runtime, "clinician")
    _open_named(page, DEMO_CLIENT.display_name)
    phone = phone_page(context, runtime, DEMO_CLIENT.phone_number)
    cell = _cell(context, runtime)
    # When the clinician presses Call in the inbox (the call's id is the one the API gave
    # back: the thread may already show another call still ringing)
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/calls")
    ) as placing:
        page.get_by_role("button", name="Call", exact=True).click()
    call_ulid = placing.value.json()["call_id"]
    placed = page.locator(f'#messages li.call.outbound[data-call-id="{call_ulid}"]')
    expect(placed).to_contain_text("Ringing")
    # Then their cell rings first, with the outbound screen; they accept
    ringing = cell.locator(f'li.cell-call[data-call-id$="/{call_ulid}"]')
    expect(ringing).to_contain_text("Call to a client of")
    ringing.get_by_role("button", name="Accept (press 1)").click()
    expect(ringing).to_contain_text("Ringing the client…")
    # Then the client's phone rings under the business number, and they answer
    expect(phone.locator("#call-state")).to_have_text(
        f"Incoming call from {runtime['business_number']}"
    )
    phone.get_by_role("button", name="Answer").click()
    expect(phone.locator("#call-state")).to_contain_text("Connected")
    expect(ringing).to_contain_text("Connected")
    phone.get_by_role("button", name="Hang up").click()
    expect(phone.locator("#call-state")).to_have_text("Call ended.")
    # And the thread's call log shows the outgoing call, answered
    _open_named(page, DEMO_CLIENT.display_name)
    row = page.locator(f'#messages li.call.outbound[data-call-id="{call_ulid}"]')
    expect(row).to_contain_text("Outgoing call by You")
    expect(row).to_contain_text(re.compile(r"Answered by You · 0:\d\d"))
