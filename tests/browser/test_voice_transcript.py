"""Voicemail transcription in the web inbox, in Chromium against the local runtime: an admin
opts in on the Calls tab, a caller leaves a voicemail, and the thread shows its transcript
under the voicemail, fetched through the staff API with the token in a header (local mode
transcribes on moto's Transcribe with a clearly marked simulated text: a tone has no words).

Synthetic data only: 555-01xx numbers.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from local.sim_transcriber import SIMULATED_PREFIX
from tests.browser.checks import assert_nothing_kept
from tests.browser.helpers import http, id_token, sign_in
from tests.browser.test_voice import _missed_call_with_voicemail, _open

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect

TRANSCRIBED_CALLER = "+12065550125"


def _settings(runtime: dict[str, Any]) -> dict[str, Any]:
    status, saved = http(
        "GET",
        runtime["base_url"] + "/voice-settings",
        headers={"Authorization": id_token(runtime, "admin")},
    )
    assert status == 200
    return dict(saved)


def _transcript_state(runtime: dict[str, Any], conversation_id: str, call_id: str) -> Any:
    status, page = http(
        "GET",
        f"{runtime['base_url']}/conversations/{conversation_id}/calls",
        headers={"Authorization": id_token(runtime, "admin")},
    )
    assert status == 200
    (call,) = [c for c in page["items"] if c["call_id"] == call_id]
    return call["voicemail"].get("transcript")


def _transcribe(runtime: dict[str, Any], on: bool) -> None:
    body = {k: v for k, v in _settings(runtime).items() if k != "greeting_recording"}
    status, _ = http(
        "PUT",
        runtime["base_url"] + "/voice-settings",
        {**body, "transcribe_voicemail": on},
        headers={"Authorization": id_token(runtime, "admin")},
    )
    assert status == 200


def test_an_opted_in_voicemail_shows_its_transcript_under_the_voicemail(
    page: Page, runtime: dict[str, Any]
) -> None:
    # Given an admin turns transcription on in the Calls tab
    sign_in(page, runtime, "admin")
    page.locator("#nav-admin").click()
    page.locator('.tab[data-tab="voice"]').click()
    # (the form is filled from the API once loaded: wait for it, or the fill undoes the tick)
    route = page.locator("#voice-routes .voice-route").first
    expect(route.locator(".route-number")).to_have_value(runtime["business_number"])
    expect(page.get_by_label("Transcribe voicemails", exact=False)).not_to_be_checked()
    page.get_by_label("Transcribe voicemails", exact=False).check()
    page.get_by_role("button", name="Save call settings").click()
    expect(page.locator("#admin-status")).to_have_text("Call settings saved.")
    try:
        assert _settings(runtime)["transcribe_voicemail"] is True
        # And a caller leaves a voicemail, which local mode's sweep transcribes
        _, conversation_id, call_id = _missed_call_with_voicemail(runtime, TRANSCRIBED_CALLER, 2)
        deadline = time.monotonic() + 30
        while _transcript_state(runtime, conversation_id, call_id) != "ready":
            assert time.monotonic() < deadline, "no transcript within 30 s"
            time.sleep(0.5)
        # When the admin opens the thread in a new tab (the list shows the new caller; the
        # session carries over through the HttpOnly refresh cookie, no second sign-in)
        # and reads the transcript
        page = page.context.new_page()
        page.goto(runtime["base_url"] + "/")
        expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
        _open(page, conversation_id)
        row = page.locator(f'#messages li.call[data-call-id="{call_id}"]')
        expect(row.get_by_role("button", name="Play voicemail (0:02)")).to_be_visible()
        with page.expect_response(lambda r: r.url.endswith("/transcript")) as answer:
            row.get_by_role("button", name="Read transcript").click()
        # Then it came through the API with the token in a header, nothing in the URL
        response = answer.value
        assert response.status == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.request.headers["authorization"]
        assert "?" not in response.url
        # And the (clearly simulated) text shows under the voicemail
        quote = row.locator("blockquote.voicemail-transcript")
        expect(quote).to_contain_text(SIMULATED_PREFIX)
        expect(quote).to_contain_text("2-second voicemail")
        assert_nothing_kept(page, TRANSCRIBED_CALLER)
    finally:
        _transcribe(runtime, False)  # the shared runtime goes back to the default
